using System.Data;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// SERIALIZABLE with plain reads; the database detects every dangerous interleaving and aborts one side
/// (PostgreSQL 40001/40P01, InnoDB 1213/1205), and the unit re-runs from fresh reads.
/// </summary>
public sealed class SerializableRetry<TDb>(TDb db, StrategyRuntime runtime)
    : OneTransaction<TDb>(db, nameof(StrategyName.SerializableRetry), runtime, IsolationLevel.Serializable, lockClause: "", DatabaseProvider.PrepareSerializableAsync)
    where TDb : ModuleDbContext;
