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
        var (locked, release) = (new TaskCompletionSource(), new TaskCompletionSource());

        var holder = holderScope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>()
            .ExecuteAsync(async (session, ct) =>
            {
                await session.LoadForWriteAsync<Account>([account], ct);
                locked.TrySetResult();
                await release.Task;
                return true;
            }, CancellationToken.None);
        await Task.WhenAny(locked.Task, holder);

        Task deposit;
        bool blocked;
        await using (var depositScope = services.CreateAsyncScope())
        {
            deposit = depositScope.ServiceProvider.GetRequiredService<IMediator>().Send(new Deposit(account, 5m));
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
