using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency;

/// <summary>
/// Rows of one type that a unit will load for write, known before it runs (a transfer's two accounts). A unit may
/// load others too; declaring them lets a batch lock them up front, in the global key order, with every other
/// unit's, so batches never wait on each other in a cycle.
/// </summary>
public sealed class WriteKeys
{
    public static readonly WriteKeys None = new(null, [], (_, _, _) => Task.CompletedTask);

    WriteKeys(Type? rowType, IReadOnlyList<Guid> ids, Func<IWriteSession<ModuleDbContext>, IReadOnlyCollection<Guid>, CancellationToken, Task> loadForWrite)
    {
        RowType = rowType;
        Ids = ids;
        LoadForWrite = loadForWrite;
    }

    public static WriteKeys Of<TRow>(params Guid[] ids) where TRow : class, IVersioned =>
        new(typeof(TRow), ids, (session, union, ct) => session.LoadForWriteAsync<TRow>(union, ct));

    public Type? RowType { get; }
    public IReadOnlyList<Guid> Ids { get; }

    /// <summary>Loads rows of this type for write in <c>session</c>, given as the union of every declaring unit's ids.</summary>
    internal Func<IWriteSession<ModuleDbContext>, IReadOnlyCollection<Guid>, CancellationToken, Task> LoadForWrite { get; }
}
