using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// SERIALIZABLE with plain reads; the database detects every dangerous interleaving and aborts one side
/// (PostgreSQL 40001/40P01, InnoDB 1213/1205), and the unit re-runs from fresh reads.
/// </summary>
public sealed class SerializableRetry<TDb>(IDbContextFactory<TDb> contexts, StrategyRuntime runtime) : ConcurrencyStrategy<TDb>(contexts, runtime)
    where TDb : ModuleDbContext
{
    public override string Name => nameof(StrategyName.SerializableRetry);

    protected override WriteSession<TDb> OpenSession(TDb db) => new Session(db, Name, Runtime);

    sealed class Session(TDb db, string name, StrategyRuntime runtime) : WriteSession<TDb>(db, name, runtime)
    {
        protected internal override Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct) =>
            RunInOneTransactionAsync(IsolationLevel.Serializable, work, ct, token => DatabaseProvider.PrepareSerializableAsync(Db, token));

        protected override Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) =>
            QueryRowsAsync<TRow>(ids, lockClause: "", ct);
    }
}
