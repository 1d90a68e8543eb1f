using Monolith.Shared.Concurrency.Strategies;

namespace Monolith.Shared.Concurrency;

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
