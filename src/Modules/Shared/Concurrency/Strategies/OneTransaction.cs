using System.Data;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// The policy of the strategies that run a whole unit in one transaction at one isolation level (null: the
/// database's default) and read the rows it will change with one locking clause ("": plain reads): decide, raise
/// the changed rows' versions, save, commit. <paramref name="prepare"/> runs first inside the transaction.
/// </summary>
public abstract class OneTransaction<TDb>(TDb db, string name, StrategyRuntime runtime, IsolationLevel? isolation, string lockClause,
    Func<TDb, CancellationToken, Task>? prepare = null) : WriteSession<TDb>(db, name, runtime)
    where TDb : ModuleDbContext
{
    protected internal sealed override Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct) =>
        RunInOneTransactionAsync(isolation, work, ct, prepare is null ? null : token => prepare(Db, token));

    protected override Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) =>
        QueryRowsAsync<TRow>(ids, lockClause, ct);
}
