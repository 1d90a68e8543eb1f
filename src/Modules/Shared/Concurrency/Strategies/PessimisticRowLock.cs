using System.Data;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// READ COMMITTED; the rows to change are locked (FOR NO KEY UPDATE / FOR UPDATE) in ascending key order before
/// anything is decided, so two units over the same rows queue instead of deadlocking. Waits are bounded by
/// Concurrency:LockTimeout; a timeout or deadlock re-runs the unit.
/// </summary>
public sealed class PessimisticRowLock<TDb>(TDb db, StrategyRuntime runtime)
    : OneTransaction<TDb>(db, nameof(StrategyName.PessimisticRowLock), runtime, IsolationLevel.ReadCommitted, DatabaseProvider.RowLockClause)
    where TDb : ModuleDbContext;
