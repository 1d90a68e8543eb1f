using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Domain;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// The interleaving tests judge "blocked" by this probe, so it is tested both ways: it must see a session that waits
/// now, and must not see one that waited in a deadlock the database already broke.
/// </summary>
public sealed class LockWaitsTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_session_waiting_for_a_row_lock_is_seen_and_named()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        var account = await services.OpenFundedAsync(10m);
        await using var holder = await TransactionAsync(services);
        await using var waiter = await TransactionAsync(services);
        await using var probeScope = services.CreateAsyncScope();
        var probe = probeScope.ServiceProvider.GetRequiredService<LedgerDbContext>();

        await TouchAsync(holder.Db, account);
        var waiting = TouchAsync(waiter.Db, account);
        Assert.True(await LockWaits.ArrivedOrBlockedAsync(waiting, probe));
        Assert.NotEmpty(await LockWaits.WaitedOnAsync(probe));

        await holder.Transaction.RollbackAsync();
        await waiting;
        Assert.Equal(0, await LockWaits.CountAsync(probe));
    }

    [Fact]
    public async Task A_deadlock_the_database_already_broke_is_not_a_session_waiting_now()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        var (a, b) = (await services.OpenFundedAsync(10m), await services.OpenFundedAsync(10m));
        await using (var first = await TransactionAsync(services))
        await using (var second = await TransactionAsync(services))
        {
            await TouchAsync(first.Db, a);
            await TouchAsync(second.Db, b);
            var firstWaits = TouchAsync(first.Db, b);
            var secondWaits = TouchAsync(second.Db, a);
            var ends = await Task.WhenAll(Outcome(firstWaits), Outcome(secondWaits));
            Assert.Single(ends, e => e is not null); // the database chose one victim
        }

        await using var probeScope = services.CreateAsyncScope();
        var probe = probeScope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        Assert.Equal(0, await LockWaits.CountAsync(probe));
        Assert.Empty(await LockWaits.WaitedOnAsync(probe));
    }

    sealed record Session(AsyncServiceScope Scope, LedgerDbContext Db, IDbContextTransaction Transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Scope.DisposeAsync();
        }
    }

    static async Task<Session> TransactionAsync(IServiceProvider services)
    {
        var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        return new Session(scope, db, await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted));
    }

    /// <summary>Takes the account row's write lock with an UPDATE that changes nothing.</summary>
    static Task TouchAsync(LedgerDbContext db, Guid account)
    {
        var accounts = db.Model.FindEntityType(typeof(Account))!;
        var table = db.GetService<ISqlGenerationHelper>().DelimitIdentifier(accounts.GetTableName()!, accounts.GetSchema());
        return db.Database.ExecuteSqlRawAsync($"UPDATE {table} SET balance = balance WHERE id = {{0}}", account);
    }

    static async Task<Exception?> Outcome(Task task)
    {
        try { await task; return null; }
        catch (Exception e) { return e; }
    }
}
