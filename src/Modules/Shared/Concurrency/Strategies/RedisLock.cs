using System.Data;
using Medallion.Threading.Redis;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using StackExchange.Redis;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// A Redis lock per row to change (DistributedLock.Redis: SET NX with a unique owner value and a TTL, extended in the
/// background while held, released by compare-and-delete), taken in key order, plus a fencing token per
/// acquisition (INCR). Each write is conditional on the token being newer than the one the row stores, which it
/// then stores, and on the version read: a holder whose lock expired while it paused cannot overwrite the work of
/// the holder after it, and a holder that read before such a late write cannot overwrite that either. If Redis is
/// unreachable the strategy fails closed: nothing is written and the caller gets a 503.
/// </summary>
public sealed class RedisLock<TDb>(TDb db, StrategyRuntime runtime, RedisLocks locks) : WriteSession<TDb>(db, nameof(StrategyName.RedisLock), runtime)
    where TDb : ModuleDbContext
{
    readonly List<RedisLocks.Lease> _leases = [];
    readonly Dictionary<IVersioned, long> _tokens = new(ReferenceEqualityComparer.Instance);

    protected internal override async Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct)
    {
        locks.EnsureConnected();
        try
        {
            await using var tx = await BeginAsync(IsolationLevel.ReadCommitted, ct);
            var result = await work(this, ct);
            DetectChangesOnce();
            BumpVersions(everyClaimedRow: true);
            await WriteAsync(new RowGuard(FencedGuard, RefusedAsync), ct);
            await tx.CommitAsync(ct);
            return result;
        }
        finally
        {
            foreach (var lease in _leases) await lease.DisposeAsync();
            _leases.Clear();
        }
    }

    protected override async Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        if (!typeof(IFenced).IsAssignableFrom(typeof(TRow)))
            throw new InvalidOperationException($"{typeof(TRow).Name} stores no fencing token (IFenced); the RedisLock strategy cannot protect it.");
        var table = Sql.Names<TRow>().Table;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var leases = new Dictionary<Guid, RedisLocks.Lease>();
        foreach (var id in ids.Distinct().Order())
        {
            var lease = await locks.AcquireAsync(RedisLocks.KeyFor(Db.Module, table, id), Runtime.Options.LockTimeout, ct);
            _leases.Add(lease);
            leases[id] = lease;
        }
        RecordLockWait(started);

        // Read after the locks are held; each token is then made newer than the one its row stores, so a token
        // counter that Redis lost (a restart without persistence) starts again above every committed write.
        var rows = await QueryRowsAsync<TRow>(ids, lockClause: "", ct);
        foreach (var row in rows) _tokens[row] = await locks.NextFenceAsync(leases[row.Id], ((IFenced)row).FenceToken, ct);
        return rows;
    }

    (string, IEnumerable<string>) FencedGuard(Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry entry, string readVersion, Func<object, string> arg)
    {
        var (_, _, version) = Sql.Names(entry.Metadata);
        var fence = Sql.Column(entry.Metadata, nameof(IFenced.FenceToken));
        var token = arg(_tokens[(IVersioned)entry.Entity]);
        return ($"{fence} < {token} AND {version} = {readVersion}", [$"{fence} = {token}"]);
    }

    /// <summary>
    /// Names the condition that refused the write, from the row as it is now: a newer fencing token than this write's
    /// means the lock had expired and a newer holder wrote (fenced out); a version other than the one read means the row
    /// changed after this unit read it (a stale reader, whatever its token). Each is checked on its own: a refusal is
    /// blamed on the version only when the token was still the newest. When both fail (the usual late write, after a
    /// newer holder wrote), the fence is named.
    /// </summary>
    async Task<Exception> RefusedAsync(Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry entry, long readVersion)
    {
        var row = (IVersioned)entry.Entity;
        var token = _tokens[row];
        var storedFence = await StoredAsync(entry, nameof(IFenced.FenceToken));
        var storedVersion = await StoredAsync(entry, nameof(IVersioned.Version));
        var name = $"{entry.Metadata.ClrType.Name} {row.Id}";
        if (storedFence >= token)
        {
            Runtime.Logger.LogWarning("{Strategy}: a write to {Row} {Id} with fencing token {Token} was refused; the row holds {Stored} (the lock had expired)",
                Name, entry.Metadata.ClrType.Name, row.Id, token, storedFence);
            return new FencedOutException($"{name} holds fencing token {storedFence}; this write's token {token} is stale: its lock expired.");
        }
        return new ConcurrencyConflictException(storedVersion != readVersion
            ? $"{name} is at version {storedVersion}; this unit read version {readVersion}: it changed after the read."
            : $"{name} refused a write that neither its fencing token {storedFence} nor its version {storedVersion} explains (was it deleted?).");
    }

    async Task<long> StoredAsync(Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry entry, string property)
    {
        var (table, key, _) = Sql.Names(entry.Metadata);
        // Only identifiers from the EF model are spliced in; the key is a parameter.
        var sql = $"SELECT {Sql.Column(entry.Metadata, property)} AS {Quote("Value")} FROM {table} WHERE {key} = {{0}}";
        return await Db.Database.SqlQueryRaw<long>(sql, ((IVersioned)entry.Entity).Id).SingleAsync();
    }

    string Quote(string identifier) => Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions.GetService<Microsoft.EntityFrameworkCore.Storage.ISqlGenerationHelper>(Db).DelimitIdentifier(identifier);
}

/// <summary>The Redis side of the RedisLock strategy: locks from DistributedLock.Redis, and the fencing tokens it lacks.</summary>
public sealed class RedisLocks(IConnectionMultiplexer redis, ConcurrencyOptions options, ILogger<RedisLocks> logger)
{
    // INCR the key's counter; if it is not above the row's stored token (Redis lost the counter), jump past it.
    const string NextFenceScript = """
        local token = redis.call('INCR', KEYS[1])
        local floor = tonumber(ARGV[1])
        if token <= floor then
            token = floor + 1
            redis.call('SET', KEYS[1], token)
        end
        return token
        """;

    public static string KeyFor(string module, string table, Guid id) => $"monolith:lock:{module}:{table.Replace("\"", "").Replace("`", "")}:{id:N}";

    static RedisKey FenceKey(string lockKey) => lockKey.Replace("monolith:lock:", "monolith:fence:", StringComparison.Ordinal);

    /// <summary>Fail closed before anything is read or written when the lock service is known to be down.</summary>
    public void EnsureConnected()
    {
        if (!redis.IsConnected) throw new ServiceUnavailableException("Redis", new RedisConnectionException(ConnectionFailureType.UnableToConnect, "not connected"));
    }

    public async Task<Lease> AcquireAsync(string key, TimeSpan timeout, CancellationToken ct)
    {
        var @lock = new RedisDistributedLock(key, redis.GetDatabase(), o => o.Expiry(options.Redis.LockExpiry));
        var handle = await Guard(() => @lock.TryAcquireAsync(timeout, ct).AsTask(), ct);
        return handle is null
            ? throw new ConcurrencyConflictException($"The Redis lock {key} was not granted within {timeout}.")
            : new Lease(key, handle, logger);
    }

    public async Task<long> NextFenceAsync(Lease lease, long floor, CancellationToken ct) =>
        (long)await Guard(() => redis.GetDatabase().ScriptEvaluateAsync(NextFenceScript, [FenceKey(lease.Key)], [floor]), ct);

    /// <summary>
    /// Whatever a Redis call throws, bar the caller's own cancellation, means the lock service cannot vouch for a lock:
    /// a refused connection, a timeout, or the client's "Writing is not allowed after writer was completed" once its
    /// connection dropped mid-call (an InvalidOperationException, seen here when Redis was killed). Fail closed: 503.
    /// </summary>
    static async Task<T> Guard<T>(Func<Task<T>> call, CancellationToken ct)
    {
        try { return await call(); }
        catch (Exception e) when (!(e is OperationCanceledException && ct.IsCancellationRequested))
        {
            throw new ServiceUnavailableException("Redis", e is AggregateException a ? a.Flatten().InnerExceptions[0] : e);
        }
    }

    /// <summary>A held lock; disposing it releases it (compare-and-delete), or leaves it to expire if Redis is gone.</summary>
    public sealed class Lease(string key, RedisDistributedLockHandle handle, ILogger logger) : IAsyncDisposable
    {
        public string Key { get; } = key;

        public async ValueTask DisposeAsync()
        {
            try { await handle.DisposeAsync(); }
            catch (Exception e)
            {
                // Whatever the client failed with, the lock is left to its expiry; the unit's outcome stands.
                logger.LogWarning("Could not release the Redis lock {Key}; it expires by itself: {Message}", Key, e.Message);
            }
        }
    }
}
