using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>The read side: statement pages and the balance as of an instant, against what the writes produced.</summary>
public sealed class LedgerQueryTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Statement_pages_walk_every_entry_newest_first_exactly_once()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var account = (await mediator.Send(new OpenAccount(Tester, "EUR"))).Id;
        var operations = new List<Guid>();
        for (var i = 1; i <= 7; i++) operations.Add((await mediator.Send(new Deposit(Tester, account, i))).OperationId);

        var seen = new List<StatementEntry>();
        long? after = null;
        var pages = 0;
        do
        {
            var page = await mediator.Send(new GetStatement(Tester, account, Limit: 3, After: after));
            seen.AddRange(page.Items);
            after = page.Next;
            pages++;
        } while (after is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(operations), seen.Select(e => e.OperationId));
        Assert.Equal(28m, seen[0].BalanceAfter);
        Assert.Equal(seen.OrderByDescending(e => e.Id).Select(e => e.Id), seen.Select(e => e.Id));
    }

    [Fact]
    public async Task The_balance_as_of_an_instant_is_the_balance_after_the_last_entry_at_or_before_it()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var account = (await mediator.Send(new OpenAccount(Tester, "EUR"))).Id;
        await mediator.Send(new Deposit(Tester, account, 100m));
        await mediator.Send(new Withdraw(Tester, account, 30.5m));
        await mediator.Send(new Deposit(Tester, account, 0.00000001m));

        var entries = (await mediator.Send(new GetStatement(Tester, account))).Items.Reverse().ToList();
        Assert.Equal([100m, 69.5m, 69.50000001m], entries.Select(e => e.BalanceAfter));
        foreach (var entry in entries)
            Assert.Equal(entry.BalanceAfter, (await mediator.Send(new GetBalanceAt(Tester, account, entry.CreatedAt))).Balance);
        Assert.Equal(0m, (await mediator.Send(new GetBalanceAt(Tester, account, entries[0].CreatedAt.AddTicks(-10)))).Balance);
        Assert.Equal(69.50000001m, (await mediator.Send(new GetBalanceAt(Tester, account, DateTimeOffset.UtcNow.AddYears(1)))).Balance);
    }
}
