using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Polly;
using StackExchange.Redis;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// The Redis lock as it is usually written, kept in the tests as the design RedisLock replaces: SET key value NX PX ttl
/// per row, no extension, no fencing, released by a Lua compare-and-delete; the writes themselves are unconditional.
/// </summary>
internal sealed class PlainRedisLock<TDb>(TDb db, StrategyRuntime runtime, IConnectionMultiplexer redis, TimeSpan ttl)
    : WriteSession<TDb>(db, StrategyName, runtime) where TDb : ModuleDbContext
{
    const string Release = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

    public const string StrategyName = "PlainRedisLock";

    public static RedisKey KeyFor(Guid id) => $"plain:lock:{id:N}";

    /// <summary>The strategy, without re-runs: what a lost fenced write looks like is the point.</summary>
    public static IConcurrencyStrategy<TDb> Strategy(IDbContextFactory<TDb> contexts, StrategyRuntime runtime, IConnectionMultiplexer redis, TimeSpan ttl) =>
        new ConcurrencyStrategy<TDb>(StrategyName, contexts, runtime, db => new PlainRedisLock<TDb>(db, runtime, redis, ttl), ResiliencePipeline.Empty);

    readonly List<(RedisKey Key, string Owner)> _held = [];

    protected internal override async Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct)
    {
        try
        {
            return await RunInOneTransactionAsync(System.Data.IsolationLevel.ReadCommitted, work, ct);
        }
        finally
        {
            foreach (var (key, owner) in _held) await redis.GetDatabase().ScriptEvaluateAsync(Release, [key], [owner]);
            _held.Clear();
        }
    }

    protected override async Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        foreach (var id in ids.Distinct().Order())
        {
            var owner = Guid.NewGuid().ToString("N");
            while (!await redis.GetDatabase().StringSetAsync(KeyFor(id), owner, ttl, When.NotExists)) await Task.Delay(5, ct);
            _held.Add((KeyFor(id), owner));
        }
        return await QueryRowsAsync<TRow>(ids, lockClause: "", ct);
    }
}
