using Microsoft.EntityFrameworkCore;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Polly;

namespace Monolith.Tests.Concurrency.Fixtures;

internal static class UnsafeReadModifyWrite
{
    /// <summary>Selectable by name in the test containers only.</summary>
    public static readonly StrategyDefinition Definition = new(UnsafeReadModifyWrite<LedgerDbContext>.StrategyName, typeof(UnsafeReadModifyWrite<>));
}

/// <summary>
/// The unsafe baseline: a plain read-modify-write in one transaction at the database's default isolation
/// (PostgreSQL READ COMMITTED, InnoDB REPEATABLE READ), no locks, no version check, no re-run. It lives in the tests
/// only, so the Host can never select it; the race suite must catch it.
/// </summary>
internal sealed class UnsafeReadModifyWrite<TDb>(IDbContextFactory<TDb> contexts, StrategyRuntime runtime) : ConcurrencyStrategy<TDb>(contexts, runtime)
    where TDb : ModuleDbContext
{
    public const string StrategyName = "UnsafeReadModifyWrite";

    public override string Name => StrategyName;

    protected override ResiliencePipeline Retry => ResiliencePipeline.Empty;

    protected override WriteSession<TDb> OpenSession(TDb db) => new Session(db, Name, Runtime);

    sealed class Session(TDb db, string name, StrategyRuntime runtime) : WriteSession<TDb>(db, name, runtime)
    {
        protected internal override Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct) =>
            RunInOneTransactionAsync(isolation: null, work, ct);

        protected override Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) =>
            QueryRowsAsync<TRow>(ids, lockClause: "", ct);
    }
}
