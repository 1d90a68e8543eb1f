using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>
/// Concurrency:LockTimeout bounds a unit's wait for a row another transaction holds: the wait ends as a conflict the
/// strategy re-runs, and once the attempts run out the client gets 409, not an outage after the command timeout (30 s
/// here). On PostgreSQL the bound is a startup parameter of the connection string, on MariaDB a statement per unit,
/// so this is what shows either is in force.
/// </summary>
public sealed class LockTimeoutTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_row_held_past_the_lock_timeout_ends_in_a_conflict_not_an_outage()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock), maxAttempts: 2,
            settings: new Dictionary<string, string?> { ["Concurrency:LockTimeout"] = "00:00:01" });
        Guid account;
        await using (var setup = services.CreateAsyncScope())
        {
            var mediator = setup.ServiceProvider.GetRequiredService<IMediator>();
            account = (await mediator.Send(new OpenAccount(Tester, "EUR"))).Id;
            await mediator.Send(new Deposit(Tester, account, 100m));
        }

        await using var holder = services.CreateAsyncScope();
        var held = holder.ServiceProvider.GetRequiredService<LedgerDbContext>();
        await using (var tx = await held.Database.BeginTransactionAsync())
        {
            var table = DatabaseProvider.ModuleTable(LedgerDbContext.ModuleName, "accounts");
            await held.Database.ExecuteSqlRawAsync($"SELECT id FROM {table} WHERE id = {{0}} FOR UPDATE", account);

            await using var writer = services.CreateAsyncScope();
            var refused = await Assert.ThrowsAsync<ContentionException>(() =>
                writer.ServiceProvider.GetRequiredService<IMediator>().Send(new Withdraw(Tester, account, 10m)));
            Assert.Equal(2, refused.Attempts);
            Assert.Equal(ConflictKind.LockTimeout, DatabaseProvider.ConflictKindOf(DatabaseProvider.ErrorCode(refused.LastFailure)));
            await tx.RollbackAsync();
        }

        await using var check = services.CreateAsyncScope();
        Assert.Equal(100m, await check.ServiceProvider.GetRequiredService<LedgerDbContext>().Accounts.Where(a => a.Id == account).Select(a => a.Balance).SingleAsync());
    }
}
