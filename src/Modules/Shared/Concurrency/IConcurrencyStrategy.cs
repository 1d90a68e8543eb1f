using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency;

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

    /// <summary>A unit without a result.</summary>
    Task ExecuteAsync(WriteKeys keys, UnitOfWork<TDb> work, CancellationToken ct) =>
        ExecuteAsync<NoResult>(keys, async (session, token) =>
        {
            await work(session, token);
            return default;
        }, ct);

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
}

/// <summary>What a <see cref="UnitOfWork{TDb}"/> returns to the strategy: nothing.</summary>
public readonly record struct NoResult;
