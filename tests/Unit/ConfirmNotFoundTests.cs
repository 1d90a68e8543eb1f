using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Monolith.Shared.Behaviors;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Unit;

/// <summary>
/// The cluster profile's 404: a request that found nothing runs again before the 404 is answered (StaleReadTests in
/// tests/Cluster shows why, on a real cluster); what stays missing through every run is answered 404. It is wired in
/// on a cluster node only: on one server a read after a commit always sees it, and a 404 is answered at once.
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

    [Fact]
    public async Task A_caller_that_hangs_up_while_the_404_is_confirmed_stops_it_at_the_next_wait()
    {
        using var hangUp = new CancellationTokenSource();
        var runs = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Behavior.Handle(new Lookup(Guid.NewGuid()), hangUp.Token, () =>
        {
            runs++;
            hangUp.Cancel();
            throw new NotFoundException("Order", "x");
        }));
        Assert.Equal(1, runs);
    }

    [Theory]
    [InlineData(DatabaseProfile.SingleServer, false)]
    [InlineData(DatabaseProfile.GaleraCluster, true)]
    public void Only_a_cluster_node_confirms_a_404_and_there_innermost(DatabaseProfile profile, bool confirms)
    {
        var behaviors = new ServiceCollection().AddModuleRequests(typeof(ConfirmNotFoundTests).Assembly, profile)
            .Where(d => d.ServiceType == typeof(MediatR.IPipelineBehavior<,>)).Select(d => d.ImplementationType).ToList();
        Assert.Equal(confirms, behaviors.Contains(typeof(ConfirmNotFoundBehavior<,>)));
        // Registered last, it runs closest to the handler: validation and the command's span run once, not once per confirming run.
        if (confirms) Assert.Equal(typeof(ConfirmNotFoundBehavior<,>), behaviors[^1]);
    }
}
