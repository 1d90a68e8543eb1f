using Monolith.Lab.Invariants;
using System.Data;
using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Domain;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>
/// Why GapLock is built differently per provider: a plain FOR UPDATE over an account's entries stops a concurrent
/// insert into that range only where next-key locks exist (InnoDB under REPEATABLE READ); on PostgreSQL it locks the
/// rows that exist and the phantom goes in. The GapLock strategy stops it on both.
/// </summary>
public sealed class AppendOnlyRangeLockTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_plain_FOR_UPDATE_over_the_range_stops_a_phantom_insert_only_under_InnoDB_next_key_locks()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        var account = await services.OpenFundedAsync(100m);
        await using var holderScope = services.CreateAsyncScope();
        await using var probeScope = services.CreateAsyncScope();
        var holder = holderScope.ServiceProvider.GetRequiredService<LedgerDbContext>();

        bool blocked;
        await using (var tx = await holder.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead))
        {
            var lockRange = $"SELECT id FROM {EntriesTable(holder)} WHERE account_id = {{0}} FOR UPDATE";
            await holder.Database.ExecuteSqlRawAsync(lockRange, account);

            var phantom = InsertEntryAsync(services, account);
            blocked = await LockWaits.ArrivedOrBlockedAsync(phantom, probeScope.ServiceProvider.GetRequiredService<LedgerDbContext>());
            await tx.CommitAsync();
            await phantom;
        }

        Assert.Equal(LockWaits.IsMySql, blocked);
    }

    [Fact]
    public async Task The_GapLock_strategy_stops_the_phantom_insert_on_both_providers()
    {
        await using var services = database.Services(nameof(StrategyName.GapLock));
        var account = await services.OpenFundedAsync(100m);
        await using var holderScope = services.CreateAsyncScope();
        await using var probeScope = services.CreateAsyncScope();
        var release = new TaskCompletionSource();
        var holder = await ClaimAndHoldAsync(holderScope.ServiceProvider, account, release.Task);

        Task deposit;
        bool blocked;
        await using (var depositScope = services.CreateAsyncScope())
        {
            deposit = depositScope.ServiceProvider.GetRequiredService<IMediator>().Send(new Deposit(Tester, account, 5m));
            try
            {
                blocked = await LockWaits.ArrivedOrBlockedAsync(deposit, probeScope.ServiceProvider.GetRequiredService<LedgerDbContext>());
            }
            finally
            {
                release.TrySetResult();
            }
            await holder;
            await deposit;
        }

        Assert.True(blocked, "the deposit went into the range while the GapLock holder had it locked");
        await using var check = services.CreateAsyncScope();
        Assert.Empty(await LedgerInvariants.CheckAccountsAsync(check.ServiceProvider.GetRequiredService<LedgerDbContext>(), [account]));
    }

    [Fact]
    public async Task A_GapLock_holder_stops_an_insert_into_its_range_by_the_range_itself_not_by_the_account_row()
    {
        // The holder only reads: it writes no shared row, so nothing but the range lock can stop the insert. The
        // insert touches the account row only through its foreign key check, which a share lock does not block.
        await using var services = database.Services(nameof(StrategyName.GapLock));
        var account = await services.OpenFundedAsync(100m);
        await using var holderScope = services.CreateAsyncScope();
        await using var probeScope = services.CreateAsyncScope();
        var probe = probeScope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var release = new TaskCompletionSource();
        var holder = await ClaimAndHoldAsync(holderScope.ServiceProvider, account, release.Task);

        Task insert;
        bool blocked;
        IReadOnlyList<string> waitedOn = [];
        try
        {
            // PostgreSQL has no gap lock: the advisory lock that stands in for it stops writers that go through the
            // strategy (docs/strategies.md), so there the insert is a second GapLock unit over the same account.
            insert = LockWaits.IsMySql ? InsertEntryAsync(services, account) : GapLockUnitAsync(services, account);
            blocked = await LockWaits.ArrivedOrBlockedAsync(insert, probe);
            if (blocked) waitedOn = await LockWaits.WaitedOnAsync(probe);
        }
        finally
        {
            release.TrySetResult();
        }
        await holder;
        await insert;

        Assert.True(blocked, "the insert went into the range while the GapLock holder had it locked");
        var wait = Assert.Single(waitedOn);
        if (LockWaits.IsMySql) Assert.Matches(@"^index `?ix_entries_account_id`? of table `[^`]+`\.`(ledger_)?entries`$", wait);
        else Assert.Equal("advisory", wait);
    }

    static async Task GapLockUnitAsync(IServiceProvider services, Guid account)
    {
        await Task.Yield();
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>().ExecuteAsync(async (session, ct) =>
        {
            var row = (await session.LoadForWriteAsync<Account>([account], ct)).Single();
            session.Db.Entries.Add(row.Post(1m, Guid.CreateVersion7(), OperationKind.Deposit));
            return true;
        }, CancellationToken.None);
    }

    /// <summary>A unit that claims the account through the strategy and holds what it took until <paramref name="released"/>.</summary>
    static async Task<Task> ClaimAndHoldAsync(IServiceProvider scope, Guid account, Task released)
    {
        var locked = new TaskCompletionSource();
        var holder = scope.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>().ExecuteAsync(async (session, ct) =>
        {
            await session.LoadForWriteAsync<Account>([account], ct);
            locked.TrySetResult();
            await released;
            return true;
        }, CancellationToken.None);
        await Task.WhenAny(locked.Task, holder);
        return holder;
    }

    /// <summary>A raw insert into the account's range, through no strategy: only the database's own locks apply.</summary>
    static async Task InsertEntryAsync(IServiceProvider services, Guid account)
    {
        await Task.Yield();
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var insert = $"INSERT INTO {EntriesTable(db)} (account_id, amount, balance_after, operation_id, operation) VALUES ({{0}}, 1, 101, {{1}}, 'Deposit')";
        await db.Database.ExecuteSqlRawAsync(insert, account, Guid.CreateVersion7());
    }

    static string EntriesTable(LedgerDbContext db)
    {
        var entries = db.Model.FindEntityType(typeof(LedgerEntry))!;
        return db.GetService<ISqlGenerationHelper>().DelimitIdentifier(entries.GetTableName()!, entries.GetSchema());
    }
}
