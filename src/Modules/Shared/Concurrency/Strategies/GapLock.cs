using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// Locks the range of append-only rows that belongs to each row to change (a ledger account's entries), in key
/// order, before the balance check reads it, so no concurrent insert can slip into that range. InnoDB: REPEATABLE
/// READ and a next-key lock from a locking read over the indexed range. PostgreSQL has no gap locks: a
/// transaction-scoped advisory lock keyed by the range's owner stands in for it (docs/strategies.md).
/// </summary>
public sealed class GapLock<TDb>(TDb db, StrategyRuntime runtime)
    : OneTransaction<TDb>(db, nameof(StrategyName.GapLock), runtime, DatabaseProvider.GapLockIsolation, DatabaseProvider.GapLockOwnerReadClause)
    where TDb : ModuleDbContext
{
    protected override async Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        var range = typeof(TRow).GetCustomAttribute<AppendOnlyRangeAttribute>()
            ?? throw new InvalidOperationException($"{typeof(TRow).Name} names no [AppendOnlyRange]; the GapLock strategy has no range to lock.");
        var rows = Db.Model.FindEntityType(range.RowType)
            ?? throw new InvalidOperationException($"{range.RowType.Name} is not part of {Db.GetType().Name}.");
        var key = rows.FindPrimaryKey()!.Properties[0].Name;
        // The range is the owner's run of the (owner, key) index; the planner must not pick another index over the
        // owner's rows (InnoDB chose (owner, time, key) and a filesort, locking every row of the range).
        var index = rows.GetIndexes().FirstOrDefault(i => i.Properties.Select(p => p.Name).SequenceEqual([range.OwnerKeyProperty, key]))
            ?? throw new InvalidOperationException($"{range.RowType.Name} has no index on ({range.OwnerKeyProperty}, {key}); the GapLock strategy locks its ranges through one.");
        var rangeLock = DatabaseProvider.AppendOnlyRangeLockSql(Sql.Table(rows), Sql.Column(rows, range.OwnerKeyProperty), Sql.Column(rows, key),
            Db.GetService<ISqlGenerationHelper>().DelimitIdentifier(index.GetDatabaseName()!));

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var owner in ids.Distinct().Order())
            await Db.Database.ExecuteSqlRawAsync(rangeLock, [DatabaseProvider.AppendOnlyRangeLockKey(Sql.Table(rows), owner)], ct);
        RecordLockWait(started);

        // The owners' rows are read after their ranges are locked, as the latest committed versions.
        return await base.LoadRowsAsync<TRow>(ids, ct);
    }
}
