using Microsoft.Extensions.Logging.Abstractions;
using Monolith.Shared.Behaviors;
using Monolith.Shared.Errors;

namespace Monolith.Tests.Unit;

/// <summary>
/// The cluster profile's 404: a request that found nothing runs again before the 404 is answered (StaleReadTests in
/// tests/Cluster shows why, on a real cluster); what stays missing through every run is answered 404.
/// </summary>
public sealed class ConfirmNotFoundTests
{
    sealed record Lookup(Guid Id) : MediatR.IRequest<string>;

    static readonly ConfirmNotFoundBehavior<Lookup, string> Behavior = new(NullLogger<ConfirmNotFoundBehavior<Lookup, string>>.Instance);

    [Fact]
    public async Task A_row_that_appears_while_the_404_is_confirmed_is_answered()
    {
        var runs = 0;
        var answer = await Behavior.Handle(new Lookup(Guid.NewGuid()), CancellationToken.None, () =>
            ++runs < 3 ? throw new NotFoundException("Order", "x") : Task.FromResult("found"));
        Assert.Equal("found", answer);
        Assert.Equal(3, runs);
    }

    [Fact]
    public async Task A_row_missing_through_every_run_is_not_found()
    {
        var runs = 0;
        await Assert.ThrowsAsync<NotFoundException>(() => Behavior.Handle(new Lookup(Guid.NewGuid()), CancellationToken.None, () =>
        {
            runs++;
            throw new NotFoundException("Order", "x");
        }));
        Assert.Equal(ConfirmNotFoundBehavior<Lookup, string>.Waits.Count + 1, runs);
    }

    [Fact]
    public async Task Any_other_outcome_is_answered_at_once()
    {
        var runs = 0;
        await Assert.ThrowsAsync<BusinessRuleException>(() => Behavior.Handle(new Lookup(Guid.NewGuid()), CancellationToken.None, () =>
        {
            runs++;
            throw new BusinessRuleException("Funds", "Not enough.");
        }));
        Assert.Equal(1, runs);
    }
}
