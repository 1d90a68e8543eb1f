using System.Data;
using System.Diagnostics;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency;

/// <summary>
/// One run of one unit of work (a batch of units, under SingleWriter): the DbContext it runs on, the rows it claimed,
/// and what its strategy needs to remember while it runs (locks held, tokens drawn). A strategy opens a new session
/// on a fresh DbContext for every attempt, so a re-run starts from nothing and no state outlives its attempt. Each
/// strategy's session is where its protection lives: how rows are loaded for write and how the transaction runs.
/// </summary>
public abstract class WriteSession<TDb>(TDb db, string strategy, StrategyRuntime runtime) : IWriteSession<TDb>
    where TDb : ModuleDbContext
{
    public TDb Db => db;
    protected string Name => strategy;
    protected StrategyRuntime Runtime => runtime;

    readonly HashSet<IVersioned> _claimed = new(ReferenceEqualityComparer.Instance);

    /// <summary>The rows this unit loaded for write.</summary>
    protected IReadOnlyCollection<IVersioned> Claimed => _claimed;

    /// <summary>Hand-written SQL from the model's names: row loads, compare-and-swap writes, identifiers.</summary>
    protected RowSql Sql => _sql ??= new RowSql(db);
    RowSql? _sql;

    /// <summary>Runs the unit in this session's transaction, from fresh reads: decide, write, commit.</summary>
    protected internal abstract Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct);

    /// <summary>Reads the rows a unit will change, protected the strategy's way.</summary>
    protected abstract Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
        where TRow : class, IVersioned;

    public async Task<IReadOnlyList<TRow>> LoadForWriteAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
        where TRow : class, IVersioned
    {
        var rows = await LoadRowsAsync<TRow>(ids, ct);
        foreach (var row in rows) _claimed.Add(row);
        return rows;
    }

    /// <summary>The keys the unit declared before it ran (<see cref="WriteKeys.None"/> if none).</summary>
    public WriteKeys DeclaredKeys { get; internal set; } = WriteKeys.None;

    /// <summary>Starts a new unit's claims within one transaction (a batch runs several units in one).</summary>
    protected void ForgetClaims() => _claimed.Clear();

    /// <summary>Runs <paramref name="write"/> for a key found absent, and adds the key, to commit with the write.</summary>
    internal async Task<Guid> WriteOnceAsync<TCommand>(TCommand command, Func<Task<Guid>> write) where TCommand : IIdempotentCommand
    {
        var operationId = await write();
        db.IdempotencyRecords.Add(new IdempotencyRecord { Subject = command.Caller.Subject, Key = command.IdempotencyKey!, RequestHash = IdempotencyRecord.Fingerprint(command), OperationId = operationId });
        return operationId;
    }

    /// <summary>
    /// The whole unit in one transaction at <paramref name="isolation"/> (null: the database's default): run, raise the
    /// changed rows' versions, save, commit. <paramref name="prepare"/> runs first inside the transaction.
    /// </summary>
    protected async Task<TResult> RunInOneTransactionAsync<TResult>(IsolationLevel? isolation, UnitOfWork<TDb, TResult> work,
        CancellationToken ct, Func<CancellationToken, Task>? prepare = null)
    {
        await using var tx = await BeginAsync(isolation, ct);
        if (prepare is not null) await prepare(ct);
        var result = await work(this, ct);
        DetectChangesOnce();
        BumpVersions();
        await WriteAsync(guard: null, ct);
        await tx.CommitAsync(ct);
        return result;
    }

    protected async Task<IDbContextTransaction> BeginAsync(IsolationLevel? isolation, CancellationToken ct)
    {
        await DropFailedTransactionAsync();
        var tx = isolation is { } level
            ? await db.Database.BeginTransactionAsync(level, ct)
            : await db.Database.BeginTransactionAsync(ct);
        await DatabaseProvider.SetLockTimeoutAsync(db, runtime.Options.LockTimeout, ct);
        return tx;
    }

    /// <summary>
    /// A transaction a failed attempt left current lets no other begin on this context. Seen on Galera with
    /// SingleWriter's writer, which keeps its context and connection between attempts: the node aborted the attempt's
    /// transaction for another node's write, and the ROLLBACK the driver sent while disposing it failed as well (1213).
    /// EF then still held the transaction, and MySqlConnector's connection did too, since it forgets one only once
    /// its rollback succeeds; every later unit failed with "Transactions may not be nested" (RefusedStrategyTests
    /// once refused SingleWriter for it). So the driver's transaction is disposed a second time, which sends the
    /// ROLLBACK again, now on a transaction the server has already ended (docs/scale-out.md), and the connection is
    /// closed.
    /// </summary>
    protected async Task DropFailedTransactionAsync()
    {
        if (db.Database.CurrentTransaction is not { } failed) return;
        var driverTransaction = failed.GetDbTransaction();
        try { await failed.DisposeAsync(); }
        catch (Exception e) when (IsRollbackFailure(e)) { }
        try { await driverTransaction.DisposeAsync(); }
        catch (Exception e) when (IsRollbackFailure(e)) { }
        db.Database.UseTransaction(null);
        await db.Database.CloseConnectionAsync();
    }

    static bool IsRollbackFailure(Exception e) =>
        e is System.Data.Common.DbException or InvalidOperationException || DatabaseProvider.Classify(e) != FailureKind.Other;

    /// <summary>SELECT the rows by key, in ascending key order, with an optional locking clause.</summary>
    protected async Task<IReadOnlyList<TRow>> QueryRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, string lockClause, CancellationToken ct)
        where TRow : class, IVersioned
    {
        if (ids.Count == 0) return [];
        var args = ids.Distinct().Cast<object>().ToArray();
        var sql = Sql.SelectByKeys<TRow>(args.Length, lockClause);
        var started = Stopwatch.GetTimestamp();
        var rows = await db.Set<TRow>().FromSqlRaw(sql, args).ToListAsync(ct);
        if (lockClause.Length > 0) RecordLockWait(started);
        return rows;
    }

    /// <summary>
    /// Writes what the unit changed (<see cref="RowWriter"/>), in this session's transaction; with a guard, every
    /// versioned row's UPDATE also meets its condition, and a row it misses is refused.
    /// </summary>
    protected Task WriteAsync(RowGuard? guard, CancellationToken ct) =>
        RowWriter.WriteAsync(db, guard, runtime.Profile.OneStatementPerRoundTrip(), ct);

    /// <summary>Records the time since <paramref name="started"/> (a Stopwatch timestamp) as time spent acquiring locks.</summary>
    protected void RecordLockWait(long started)
    {
        var waited = Stopwatch.GetElapsedTime(started);
        runtime.Metrics.LockWaited(Name, db.Module, waited);
        runtime.Logger.LogDebug("{Strategy} waited {WaitedMs:F1} ms for {Module} locks", Name, waited.TotalMilliseconds, db.Module);
    }

    /// <summary>
    /// Finds what the unit changed, once, when it has decided: the version bumps and the writes that follow
    /// read the change tracker as it stands, instead of each scanning every tracked row again.
    /// </summary>
    protected void DetectChangesOnce()
    {
        db.ChangeTracker.DetectChanges();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
    }

    /// <summary>
    /// Each changed row's version goes up by one per committed unit; strategies call this before they write. So does
    /// every claimed row's, changed or not, when <paramref name="everyClaimedRow"/> is set (a compare-and-swap checks each
    /// one) and on a multi-primary cluster (<see cref="WritesEveryClaimedRow"/>).
    /// </summary>
    protected void BumpVersions(bool everyClaimedRow = false)
    {
        foreach (var entry in ChangedVersionedRows())
        {
            EnsureClaimed(entry);
            var version = entry.Property(nameof(IVersioned.Version));
            version.CurrentValue = (long)version.OriginalValue! + 1;
        }
        if (!everyClaimedRow && !WritesEveryClaimedRow) return;
        foreach (var row in _claimed)
        {
            var version = db.Entry(row).Property(nameof(IVersioned.Version));
            if (!version.IsModified) version.CurrentValue = (long)version.OriginalValue! + 1;
        }
    }

    /// <summary>
    /// Whether every claimed row is written. On a Galera cluster a claim's lock holds only on this node, and a unit on
    /// another node that changes the row neither waits nor conflicts with it, unless this unit writes the row too: then
    /// the later of the two to commit fails certification (1213) and re-runs. A claim becomes a write, so that write skew
    /// and read skew over claimed rows become write-write conflicts (docs/scale-out.md).
    /// </summary>
    protected bool WritesEveryClaimedRow => runtime.Profile.WritesEveryClaimedRow();

    /// <summary>
    /// Each changed row's version goes up, and so does that of each claimed row whose append-only range
    /// ([AppendOnlyRange]) the unit added to, changed or not: a unit that read a range and added to it without changing
    /// its owner row would otherwise leave the version as it was, and a second unit that read the range before it
    /// would pass a version check and add a phantom.
    /// </summary>
    protected void BumpVersionsOfChangedRowsAndRangeOwners()
    {
        BumpVersions();
        var added = db.ChangeTracker.Entries().Where(e => e.State == EntityState.Added).ToList();
        foreach (var row in _claimed)
        {
            var entry = db.Entry(row);
            if (entry.State != EntityState.Unchanged) continue;
            var range = row.GetType().GetCustomAttribute<AppendOnlyRangeAttribute>();
            if (range is null || !added.Any(a => a.Metadata.ClrType == range.RowType && Equals(a.Property(range.OwnerKeyProperty).CurrentValue, row.Id))) continue;
            var version = entry.Property(nameof(IVersioned.Version));
            version.CurrentValue = (long)version.OriginalValue! + 1;
        }
    }

    /// <summary>A row changed without LoadForWriteAsync would be written unprotected: refuse it, whatever the strategy.</summary>
    protected void EnsureClaimed(EntityEntry entry)
    {
        if (!_claimed.Contains((IVersioned)entry.Entity))
            throw new InvalidOperationException(
                $"{entry.Metadata.ClrType.Name} {((IVersioned)entry.Entity).Id} was changed but not loaded with LoadForWriteAsync; {Name} cannot protect it.");
    }

    protected IEnumerable<EntityEntry> ChangedVersionedRows() =>
        db.ChangeTracker.Entries()
            .Where(e => e.State == EntityState.Modified && e.Entity is IVersioned)
            .OrderBy(e => e.Metadata.Name, StringComparer.Ordinal)
            .ThenBy(e => ((IVersioned)e.Entity).Id);
}
