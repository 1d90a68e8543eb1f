using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency;

/// <summary>A row that commands change under a concurrency strategy. Version belongs to the strategy: domain code never sets it.</summary>
public interface IVersioned
{
    Guid Id { get; }
    long Version { get; }
}

/// <summary>
/// A versioned row that also stores the fencing token of its last writer, for the RedisLock strategy: a write
/// carries the token its lock was granted with and is refused if the row holds a newer one. Strategy-owned, like Version.
/// </summary>
public interface IFenced : IVersioned
{
    long FenceToken { get; }
}

/// <summary>
/// Names the append-only rows whose range belongs to this row (a ledger account's entries), for the GapLock strategy:
/// it locks that range, so no concurrent insert can slip into it while a balance check reads it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class AppendOnlyRangeAttribute(Type rowType, string ownerKeyProperty) : Attribute
{
    public Type RowType { get; } = rowType;
    public string OwnerKeyProperty { get; } = ownerKeyProperty;
}

/// <summary>What a handler sees of the strategy while its unit of work runs.</summary>
public interface IWriteSession<out TDb> where TDb : ModuleDbContext
{
    /// <summary>For reads of anything, and for adding new rows. Never call SaveChanges: the strategy does.</summary>
    TDb Db { get; }

    /// <summary>Loads the rows this unit will change, protected the way the strategy decides (locked, or version-checked at write).</summary>
    Task<IReadOnlyList<TRow>> LoadForWriteAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) where TRow : class, IVersioned;

    /// <summary>Loads one row for write; a row that does not exist is the <paramref name="resource"/> the request named, not found (404).</summary>
    async Task<TRow> LoadOneForWriteAsync<TRow>(Guid id, string resource, CancellationToken ct) where TRow : class, IVersioned =>
        (await LoadForWriteAsync<TRow>([id], ct)).SingleOrDefault() ?? throw new NotFoundException(resource, id);
}

/// <summary>A unit of work: reads, decisions and changes; it may run more than once, each time from fresh reads.</summary>
public delegate Task<TResult> UnitOfWork<TDb, TResult>(IWriteSession<TDb> session, CancellationToken ct) where TDb : ModuleDbContext;

/// <summary>A unit of work that returns nothing; what its handler answers with, the unit leaves in a local the handler reads after the commit.</summary>
public delegate Task UnitOfWork<TDb>(IWriteSession<TDb> session, CancellationToken ct) where TDb : ModuleDbContext;

/// <summary>
/// Owns the transaction of every write: isolation level, which rows are locked and how, and whether and how
/// the unit of work is re-run. Handlers do not know which strategy runs.
/// </summary>
public interface IConcurrencyStrategy<TDb> where TDb : ModuleDbContext
{
    string Name { get; }

    /// <summary>
    /// Runs <paramref name="work"/>. <paramref name="keys"/> names, before it runs, rows the unit will load for write:
    /// SingleWriter routes the unit by them and locks them with its batch; the other strategies lock at LoadForWriteAsync.
    /// </summary>
    Task<TResult> ExecuteAsync<TResult>(WriteKeys keys, UnitOfWork<TDb, TResult> work, CancellationToken ct);

    /// <summary>
    /// Runs <paramref name="write"/> once per idempotency key and returns the id of the operation it made: a replay
    /// of the key with the same command returns the stored id without writing, a different command with the key is
    /// refused (422). The key commits with the write, behind a unique index. Without a key, as ExecuteAsync.
    /// </summary>
    Task<Guid> ExecuteOnceAsync<TCommand>(TCommand command, WriteKeys keys, UnitOfWork<TDb, Guid> write, CancellationToken ct)
        where TCommand : IIdempotentCommand;
}

public static class ConcurrencyStrategyExtensions
{
    /// <summary>A unit that declares no keys before it runs.</summary>
    public static Task<TResult> ExecuteAsync<TDb, TResult>(this IConcurrencyStrategy<TDb> strategy, UnitOfWork<TDb, TResult> work, CancellationToken ct)
        where TDb : ModuleDbContext =>
        strategy.ExecuteAsync(WriteKeys.None, work, ct);

    /// <summary>A keyed unit that declares no keys before it runs.</summary>
    public static Task<Guid> ExecuteOnceAsync<TDb, TCommand>(this IConcurrencyStrategy<TDb> strategy, TCommand command, UnitOfWork<TDb, Guid> write, CancellationToken ct)
        where TDb : ModuleDbContext where TCommand : IIdempotentCommand =>
        strategy.ExecuteOnceAsync(command, WriteKeys.None, write, ct);

    /// <summary>A unit without a result.</summary>
    public static Task ExecuteAsync<TDb>(this IConcurrencyStrategy<TDb> strategy, WriteKeys keys, UnitOfWork<TDb> work, CancellationToken ct)
        where TDb : ModuleDbContext =>
        strategy.ExecuteAsync<NoResult>(keys, new WithoutResult<TDb>(work).RunAsync, ct);
}

/// <summary>What a <see cref="UnitOfWork{TDb}"/> returns to the strategy: nothing.</summary>
public readonly record struct NoResult;

/// <summary>A unit whose code is not the delegate's own method: SingleWriter tells units apart by their code.</summary>
internal interface IWrappedUnit
{
    System.Reflection.MethodInfo Code { get; }
}

/// <summary>A keyed unit as a batch runs it: the key is looked up in the batch's transaction.</summary>
internal sealed class Once<TDb, TCommand>(TCommand command, UnitOfWork<TDb, Guid> write) : IWrappedUnit
    where TDb : ModuleDbContext where TCommand : IIdempotentCommand
{
    public System.Reflection.MethodInfo Code => write.Method;

    public Task<Guid> RunAsync(IWriteSession<TDb> session, CancellationToken ct) =>
        ((WriteSession<TDb>)session).OnceAsync(command, () => write(session, ct), ct);
}

internal sealed class WithoutResult<TDb>(UnitOfWork<TDb> work) : IWrappedUnit where TDb : ModuleDbContext
{
    public System.Reflection.MethodInfo Code => work.Method;

    public async Task<NoResult> RunAsync(IWriteSession<TDb> session, CancellationToken ct)
    {
        await work(session, ct);
        return default;
    }
}

/// <summary>
/// Rows of one type that a unit will load for write, known before it runs (a transfer's two accounts). A unit may
/// load others too; declaring them lets a batch lock them up front, in the global key order, with every other
/// unit's, so batches never wait on each other in a cycle.
/// </summary>
public sealed class WriteKeys
{
    public static readonly WriteKeys None = new(null, [], (_, _, _) => Task.CompletedTask);

    WriteKeys(Type? rowType, IReadOnlyList<Guid> ids, Func<IRowLocks, IReadOnlyCollection<Guid>, CancellationToken, Task> @lock)
    {
        RowType = rowType;
        Ids = ids;
        Lock = @lock;
    }

    public static WriteKeys Of<TRow>(params Guid[] ids) where TRow : class, IVersioned =>
        new(typeof(TRow), ids, (locks, union, ct) => locks.LockAsync<TRow>(union, ct));

    public Type? RowType { get; }
    public IReadOnlyList<Guid> Ids { get; }

    /// <summary>Locks rows of this type, given as the union of every declaring unit's ids.</summary>
    internal Func<IRowLocks, IReadOnlyCollection<Guid>, CancellationToken, Task> Lock { get; }
}

/// <summary>A session that can lock rows of any declared type.</summary>
internal interface IRowLocks
{
    Task LockAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) where TRow : class, IVersioned;
}

/// <summary>A version check failed, or a lock could not be had in time: another unit changed a row since this one read it. The unit re-runs.</summary>
public sealed class ConcurrencyConflictException(string message) : Exception(message);

/// <summary>A write carried an older fencing token than the row holds: its lock had expired and a newer holder wrote. The unit re-runs.</summary>
public sealed class FencedOutException(string message) : Exception(message);

public static class Conflicts
{
    /// <summary>True when the unit lost a race it may win on a re-run from fresh reads.</summary>
    public static bool IsRetryable(Exception e) =>
        e is ConcurrencyConflictException or FencedOutException || DatabaseProvider.Classify(e) == FailureKind.Retryable;

    /// <summary>What the conflict was, for metrics and logs: "version", or the database's error code.</summary>
    public static string Reason(Exception e) => e switch
    {
        ConcurrencyConflictException => "version",
        FencedOutException => "fenced",
        _ => DatabaseProvider.ErrorCode(e) ?? e.GetType().Name,
    };
}
