using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// READ COMMITTED; the rows to change are locked (FOR NO KEY UPDATE / FOR UPDATE) in ascending key order before
/// anything is decided, so two units over the same rows queue instead of deadlocking. Waits are bounded by
/// Concurrency:LockTimeout; a timeout or deadlock re-runs the unit.
/// </summary>
public sealed class PessimisticRowLock<TDb>(IDbContextFactory<TDb> contexts, StrategyRuntime runtime) : ConcurrencyStrategy<TDb>(contexts, runtime)
    where TDb : ModuleDbContext
{
    public override string Name => nameof(StrategyName.PessimisticRowLock);

    protected override WriteSession<TDb> OpenSession(TDb db) => new Session(db, Name, Runtime);

    sealed class Session(TDb db, string name, StrategyRuntime runtime) : WriteSession<TDb>(db, name, runtime)
    {
        protected internal override Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct) =>
            RunInOneTransactionAsync(IsolationLevel.ReadCommitted, work, ct);

        protected override Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) =>
            QueryRowsAsync<TRow>(ids, DatabaseProvider.RowLockClause, ct);
    }
}
