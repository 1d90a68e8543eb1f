using Monolith.Shared.Concurrency;
using Monolith.Shared.Concurrency.Strategies;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

internal static class UnsafeReadModifyWrite
{
    public const string StrategyName = "UnsafeReadModifyWrite";

    /// <summary>Selectable by name in the test containers only.</summary>
    public static readonly StrategyDefinition Definition = new(StrategyName, typeof(UnsafeReadModifyWrite<>), ReRunsConflicts: false);
}

/// <summary>
/// The unsafe baseline: a plain read-modify-write in one transaction at the database's default isolation
/// (PostgreSQL READ COMMITTED, InnoDB REPEATABLE READ), no locks, no version check, no re-run. It lives in the tests
/// only, so the Host can never select it; the race suite must catch it.
/// </summary>
internal sealed class UnsafeReadModifyWrite<TDb>(TDb db, StrategyRuntime runtime)
    : OneTransaction<TDb>(db, UnsafeReadModifyWrite.StrategyName, runtime, isolation: null, lockClause: "")
    where TDb : ModuleDbContext;
