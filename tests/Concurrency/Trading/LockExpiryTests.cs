using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Trading.Domain;
using Monolith.Trading.Features;
using Monolith.Trading.Persistence;
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
    public async Task A_late_write_under_the_plain_SET_NX_lock_loses_the_next_holders_update()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var redis = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:6379");
        var account = await OpenAsync(services);

        var balance = await RaceAsync(services, account,
            scope => new PlainRedisLock<TradingDbContext>(scope.GetRequiredService<TradingDbContext>(), scope.GetRequiredService<StrategyRuntime>(), redis, Ttl),
            lockGone: () => LockGoneAsync(redis, PlainRedisLock<TradingDbContext>.KeyFor(account)));

        output.WriteLine($"plain SET NX lock: balance {balance} after reserving 100 (paused holder) and 50 (next holder) from 1000");
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
        Assert.Contains("fenced", conflicts.Reasons); // the late write was refused by its stale token
        Assert.Equal(850m, balance); // both reservations count
    }

    /// <summary>
    /// The first unit reserves 100 and pauses after reading until its lock is gone from Redis; the second reserves 50
    /// and commits meanwhile; then the first goes on. Returns the balance after both.
    /// </summary>
    static async Task<decimal> RaceAsync(IServiceProvider services, Guid account, Func<IServiceProvider, IConcurrencyStrategy<TradingDbContext>> strategyIn, Func<Task> lockGone)
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
                row.Reserve(100m, "paused holder", DateTimeOffset.UtcNow);
                return true;
            }, CancellationToken.None);
        });
        try
        {
            await Task.WhenAny(read.Task, first);
            if (first.IsFaulted) await first;
            await lockGone();
            await using (var scope = services.CreateAsyncScope())
                await strategyIn(scope.ServiceProvider).ExecuteAsync(async (session, ct) =>
                {
                    (await session.LoadForWriteAsync<TradingAccount>([account], ct)).Single().Reserve(50m, "next holder", DateTimeOffset.UtcNow);
                    return true;
                }, CancellationToken.None);
        }
        finally
        {
            go.TrySetResult();
        }
        await first;
        await using var check = services.CreateAsyncScope();
        return (await check.ServiceProvider.GetRequiredService<IMediator>().Send(new GetTradingAccount(account))).CurrentBalance;
    }

    /// <summary>
    /// Expires the paused holder's lock as its TTL would. RedisLock's holder extends its lock from a background timer
    /// that a test cannot pause from inside the process; a stop-the-world pause or a partition would stop it, and the
    /// key would go exactly like this.
    /// </summary>
    static async Task ExpireAsync(IConnectionMultiplexer redis, string pattern)
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

    static async Task<Guid> OpenAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new OpenTradingAccount(1_000m, 100m))).Id;
    }

    /// <summary>The reasons of the conflicts one service provider's strategies recorded.</summary>
    sealed class ConflictReasons : IDisposable
    {
        readonly MeterListener _listener = new();
        readonly ConcurrentBag<string> _reasons = [];

        public ConflictReasons(ConcurrencyMetrics metrics)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name == "monolith.concurrency.conflicts") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                foreach (var tag in tags) if (tag.Key == "reason") _reasons.Add(tag.Value?.ToString() ?? "");
            });
            _listener.Start();
        }

        public IReadOnlyCollection<string> Reasons => _reasons;
        public void Dispose() => _listener.Dispose();
    }
}
