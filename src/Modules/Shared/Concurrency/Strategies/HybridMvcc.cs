using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// Reads and decides outside any transaction, holding no locks; then a short write phase locks the rows it read
/// with FOR UPDATE filtered by the versions it read, in key order. A row missing from that result changed in
/// between: a conflict, and the unit re-runs. A claimed row whose range the unit added to gets a new version even if
/// unchanged. Locks are held only while writing.
/// </summary>
public sealed class HybridMvcc<TDb>(TDb db, StrategyRuntime runtime) : WriteSession<TDb>(db, nameof(StrategyName.HybridMvcc), runtime)
    where TDb : ModuleDbContext
{
    readonly List<Func<CancellationToken, Task>> _writePhaseLocks = [];

    protected internal override async Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct)
    {
        var result = await work(this, ct);

        await using var tx = await BeginAsync(IsolationLevel.ReadCommitted, ct);
        foreach (var lockRowsAsRead in _writePhaseLocks) await lockRowsAsRead(ct);
        DetectChangesOnce();
        BumpVersionsOfChangedRowsAndRangeOwners();
        await WriteAsync(guard: null, ct);
        await tx.CommitAsync(ct);
        return result;
    }

    protected override async Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        var rows = await QueryRowsAsync<TRow>(ids, lockClause: "", ct);
        var read = rows.Select(r => (r.Id, r.Version)).ToList();
        if (read.Count > 0) _writePhaseLocks.Add(token => LockIfUnchangedAsync<TRow>(read, token));
        return rows;
    }

    async Task LockIfUnchangedAsync<TRow>(IReadOnlyList<(Guid Id, long Version)> read, CancellationToken ct) where TRow : class, IVersioned
    {
        var (table, key, version) = Sql.Names<TRow>();
        var args = new List<object>();
        var filter = string.Join(" OR ", read.Select(r =>
        {
            args.Add(r.Id);
            args.Add(r.Version);
            return $"({key} = {{{args.Count - 2}}} AND {version} = {{{args.Count - 1}}})";
        }));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var sql = $"SELECT * FROM {table} WHERE {filter} ORDER BY {key} {DatabaseProvider.RowLockClause}";
        var locked = await Db.Set<TRow>()
            .FromSqlRaw(sql, args.ToArray())
            .AsNoTracking()
            .ToListAsync(ct);
        RecordLockWait(started);
        if (locked.Count != read.Count)
            throw new ConcurrencyConflictException($"{read.Count - locked.Count} {typeof(TRow).Name} row(s) changed since they were read.");
    }
}
