using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Trading.Domain;
using Monolith.Trading.Features;
using Monolith.Trading.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Trading;

/// <summary>
/// A holder pauses (GC, network, a slow query) past its lock's TTL; a second holder acquires and writes; then the
/// first wakes and writes. With the plain SET NX lock the first overwrites the second's work; with RedisLock's
/// fencing tokens the late write is refused, the first unit re-runs from fresh reads, and nothing is lost.
/// </summary>
public sealed class LockExpiryTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    static readonly TimeSpan Ttl = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task RedisLock_refuses_a_row_that_stores_no_fencing_token_and_writes_nothing()
    {
        // A ledger account has no fence column: without one, a holder whose lock expired could not be refused.
        await using var services = database.Services(nameof(StrategyName.RedisLock));
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var account = (await mediator.Send(new Monolith.Ledger.Features.OpenAccount(Tester, "EUR"))).Id;

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => mediator.Send(new Monolith.Ledger.Features.Deposit(Tester, account, 10m)));
        Assert.Contains("stores no fencing token", refused.Message);
        var db = scope.ServiceProvider.GetRequiredService<Monolith.Ledger.Persistence.LedgerDbContext>();
        Assert.Equal(0, await db.Entries.CountAsync(e => e.AccountId == account));
    }

    [Fact]
    public async Task A_late_write_under_the_plain_SET_NX_lock_loses_the_next_holders_update()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var redis = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:6379");
        var account = await OpenAsync(services);

        var balance = await RaceAsync(services, account,
            scope => PlainRedisLock<TradingDbContext>.Strategy(scope.GetRequiredService<IDbContextFactory<TradingDbContext>>(), scope.GetRequiredService<StrategyRuntime>(), redis, Ttl),
            lockGone: () => LockGoneAsync(redis, PlainRedisLock<TradingDbContext>.KeyFor(account)));

        output.WriteLine($"plain SET NX lock: balance {balance} after reserving 100 (paused holder) and 50 (next holder) from 1000");
        AnomalyMatrix.Record(PlainRedisLock<TradingDbContext>.StrategyName, AnomalyMatrix.LostFencedWrite,
            balance == 850m ? "prevented" : $"**occurs**: balance {balance:0.00}, expected 850.00");
        Assert.Equal(900m, balance); // the next holder's 50 is lost: overwritten by the late write
    }

    [Fact]
    public async Task A_late_write_under_RedisLock_is_refused_by_its_fencing_token_and_nothing_is_lost()
    {
        await using var services = database.Services(nameof(StrategyName.RedisLock));
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        var account = await OpenAsync(services);
        using var conflicts = new ConflictReasons(services.GetRequiredService<ConcurrencyMetrics>());

        var balance = await RaceAsync(services, account,
            scope => scope.GetRequiredService<IConcurrencyStrategy<TradingDbContext>>(),
            lockGone: () => ExpireAsync(redis, $"monolith:lock:trading:*{account:N}"));

        output.WriteLine($"RedisLock: balance {balance}; conflicts: {string.Join(", ", conflicts.Reasons)}");
        AnomalyMatrix.Record(nameof(StrategyName.RedisLock), AnomalyMatrix.LostFencedWrite,
            balance == 850m ? $"refused by the fence ({string.Join(", ", conflicts.Reasons)}), re-runs" : $"**occurs**: balance {balance:0.00}, expected 850.00");
        Assert.Contains("fenced", conflicts.Reasons); // the late write was refused by its stale token
        Assert.Equal(850m, balance); // both reservations count
    }

    [Fact]
    public async Task A_holder_that_read_before_a_late_write_is_refused_by_its_version_though_its_token_is_newer()
    {
        // The late writer B pauses after reading (token t1) until its lock is gone; A then locks, reads and draws
        // t2 > t1, and pauses; B wakes and commits, stamping t1. A's token is still the newest, so only the version
        // it read can tell that its read is stale.
        await using var services = database.Services(nameof(StrategyName.RedisLock));
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        var account = await OpenAsync(services);
        using var conflicts = new ConflictReasons(services.GetRequiredService<ConcurrencyMetrics>());

        var late = new PausedReservation(services, account, 50m);
        PausedReservation? stale = null;
        try
        {
            await late.ReadAsync();
            await ExpireAsync(redis, $"monolith:lock:trading:*{account:N}");
            // Started only now: a unit started with the first would race it for the lock, and the loser would wait
            // for a holder that is paused until the winner writes.
            stale = new PausedReservation(services, account, 100m);
            await stale.ReadAsync();
            await late.WriteAsync();
            await stale.WriteAsync();
        }
        finally
        {
            late.Release();
            stale?.Release();
        }

        output.WriteLine($"RedisLock, stale reader with the newest token: conflicts: {string.Join(", ", conflicts.Reasons)}");
        Assert.Equal(["version"], conflicts.Reasons);
        Assert.Equal(850m, await BalanceAsync(services, account)); // without the version condition: 900, the late 50 lost
    }

    [Fact]
    public async Task A_holder_whose_token_is_stale_but_whose_version_is_current_is_fenced_out()
    {
        // No write through this strategy can leave such a row (each write also bumps the version), so the row is
        // stamped by hand, as a writer that fences without versioning would stamp it (another service sharing the row,
        // a repair script). It is the only interleaving where the fencing token alone must refuse the write.
        await using var services = database.Services(nameof(StrategyName.RedisLock));
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        var account = await OpenAsync(services);
        using var conflicts = new ConflictReasons(services.GetRequiredService<ConcurrencyMetrics>());
        var versionBefore = await VersionAsync(services, account);

        var holder = new PausedReservation(services, account, 100m);
        try
        {
            await holder.ReadAsync();
            var fenceKey = Assert.Single(redis.GetServer(redis.GetEndPoints()[0]).Keys(pattern: $"monolith:fence:trading:*{account:N}"));
            var holdersToken = (long)await redis.GetDatabase().StringGetAsync(fenceKey);
            await StampFenceAsync(services, account, holdersToken + 1);
            await holder.WriteAsync();
        }
        finally
        {
            holder.Release();
        }

        output.WriteLine($"RedisLock, stale token with the current version: conflicts: {string.Join(", ", conflicts.Reasons)}");
        Assert.Equal(["fenced"], conflicts.Reasons);
        Assert.Equal(versionBefore + 1, await VersionAsync(services, account)); // one write, after the re-run
        Assert.Equal(900m, await BalanceAsync(services, account));
    }

    /// <summary>A reservation through the module's strategy whose first run pauses after its reads until told to write.</summary>
    sealed class PausedReservation
    {
        readonly TaskCompletionSource _read = new(), _go = new();
        readonly Task _run;

        public PausedReservation(IServiceProvider services, Guid account, decimal cost) => _run = Task.Run(async () =>
        {
            await using var scope = services.CreateAsyncScope();
            var paused = false;
            await scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<TradingDbContext>>().ExecuteAsync(async (session, ct) =>
            {
                var row = (await session.LoadForWriteAsync<TradingAccount>([account], ct)).Single();
                if (!paused) { paused = true; _read.SetResult(); await _go.Task; }
                row.Reserve(cost, 1m, $"reserve {cost}", DateTimeOffset.UtcNow);
                return true;
            }, CancellationToken.None);
        });

        public async Task ReadAsync()
        {
            await Task.WhenAny(_read.Task, _run);
            if (_run.IsFaulted) await _run;
        }

        public Task WriteAsync()
        {
            _go.TrySetResult();
            return _run;
        }

        public void Release() => _go.TrySetResult();
    }

    static async Task StampFenceAsync(IServiceProvider services, Guid account, long token)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TradingDbContext>();
        var (table, fence, key) = Columns(db, nameof(TradingAccount.FenceToken));
        Assert.Equal(1, await db.Database.ExecuteSqlRawAsync($"UPDATE {table} SET {fence} = {{0}} WHERE {key} = {{1}}", token, account));
    }

    static async Task<long> VersionAsync(IServiceProvider services, Guid account)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TradingDbContext>();
        var (table, version, key) = Columns(db, nameof(TradingAccount.Version));
        var value = db.GetService<ISqlGenerationHelper>().DelimitIdentifier("Value");
        return await db.Database.SqlQueryRaw<long>($"SELECT {version} AS {value} FROM {table} WHERE {key} = {{0}}", account).SingleAsync();
    }

    static (string Table, string Column, string Key) Columns(TradingDbContext db, string property)
    {
        var entity = db.Model.FindEntityType(typeof(TradingAccount))!;
        var sql = db.GetService<ISqlGenerationHelper>();
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        return (sql.DelimitIdentifier(table.Name, table.Schema),
            sql.DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(table)!),
            sql.DelimitIdentifier(entity.FindProperty(nameof(TradingAccount.Id))!.GetColumnName(table)!));
    }

    static async Task<decimal> BalanceAsync(IServiceProvider services, Guid account)
    {
        await using var check = services.CreateAsyncScope();
        return (await check.ServiceProvider.GetRequiredService<IMediator>().Send(new GetTradingAccount(Tester, account))).CurrentBalance;
    }

    /// <summary>
    /// The first unit reserves 100 and pauses after reading until its lock is gone from Redis; the second reserves 50
    /// and commits meanwhile, through <paramref name="nextHolder"/> when given (another database node); then the first
    /// goes on. Returns the balance after both.
    /// </summary>
    internal static async Task<decimal> RaceAsync(IServiceProvider services, Guid account, Func<IServiceProvider, IConcurrencyStrategy<TradingDbContext>> strategyIn,
        Func<Task> lockGone, IServiceProvider? nextHolder = null)
    {
        var (read, go) = (new TaskCompletionSource(), new TaskCompletionSource());
        var first = Task.Run(async () =>
        {
            await using var scope = services.CreateAsyncScope();
            var paused = false;
            await strategyIn(scope.ServiceProvider).ExecuteAsync(async (session, ct) =>
            {
                var row = (await session.LoadForWriteAsync<TradingAccount>([account], ct)).Single();
                if (!paused) { paused = true; read.SetResult(); await go.Task; }
                row.Reserve(100m, 1m, "paused holder", DateTimeOffset.UtcNow);
                return true;
            }, CancellationToken.None);
        });
        try
        {
            await Task.WhenAny(read.Task, first);
            if (first.IsFaulted) await first;
            await lockGone();
            await using (var scope = (nextHolder ?? services).CreateAsyncScope())
                await strategyIn(scope.ServiceProvider).ExecuteAsync(async (session, ct) =>
                {
                    (await session.LoadForWriteAsync<TradingAccount>([account], ct)).Single().Reserve(50m, 1m, "next holder", DateTimeOffset.UtcNow);
                    return true;
                }, CancellationToken.None);
        }
        finally
        {
            go.TrySetResult();
        }
        await first;
        return await BalanceAsync(services, account);
    }

    /// <summary>
    /// Expires the paused holder's lock as its TTL would. RedisLock's holder extends its lock from a background timer
    /// that a test cannot pause from inside the process; a stop-the-world pause or a partition would stop it, and the
    /// key would go exactly like this.
    /// </summary>
    internal static async Task ExpireAsync(IConnectionMultiplexer redis, string pattern)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var keys = server.Keys(pattern: pattern).ToArray();
        Assert.Single(keys);
        Assert.True(await redis.GetDatabase().KeyDeleteAsync(keys[0]));
    }

    /// <summary>Waits for the lock's key to leave Redis by itself (its TTL); state, not time, ends the wait.</summary>
    static async Task LockGoneAsync(IConnectionMultiplexer redis, string pattern)
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var deadline = DateTime.UtcNow.AddSeconds(60); // a bound for a hung test, not a measurement
        while (server.Keys(pattern: pattern).Any())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the lock {pattern} did not expire");
            await Task.Delay(20);
        }
    }

    internal static async Task<Guid> OpenAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new OpenTradingAccount(Tester, 1_000m, 100m))).Id;
    }

    /// <summary>The reasons of the conflicts one service provider's strategies recorded.</summary>
    internal sealed class ConflictReasons : IDisposable
    {
        readonly IDisposable _listener;
        readonly ConcurrentBag<string> _reasons = [];

        public ConflictReasons(ConcurrencyMetrics metrics) =>
            _listener = metrics.Listen((instrument, _, tags) =>
            {
                if (instrument == ConcurrencyMetrics.Instruments.Conflicts) _reasons.Add(ConcurrencyMetrics.Tag(tags, "reason") ?? "");
            });

        public IReadOnlyCollection<string> Reasons => _reasons;
        public void Dispose() => _listener.Dispose();
    }
}
