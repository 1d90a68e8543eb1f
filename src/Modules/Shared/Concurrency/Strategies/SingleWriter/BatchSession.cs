using System.Data;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// The writer's side of the units: an <see cref="IWriteSession{TDb}"/> over the writer's own DbContext whose
/// transaction spans a batch. Rows loaded for write are locked (FOR UPDATE) once per batch and stay tracked, so each
/// unit sees the previous ones' changes. Changes are saved once, at the end of the batch, unless a unit reads the
/// database while earlier units' changes are unsaved: that unit is undone, the changes are saved and it runs again
/// (units may run more than once), and from then on units of its kind get the batch saved before they run. A unit
/// refused by a rule is undone in memory alone.
/// </summary>
internal sealed class BatchSession<TDb> : WriteSession<TDb>, IRowLocks where TDb : ModuleDbContext
{
    /// <summary>Units (by their code) seen reading the database; the batch is saved before each of them runs.</summary>
    readonly HashSet<System.Reflection.MethodInfo> _readers = [];
    string? _lastMarker;
    Batch _batch = new();

    public BatchSession(TDb db, StrategyRuntime runtime) : base(db, nameof(StrategyName.SingleWriter), runtime)
    {
        db.ChangeTracker.Tracked += (_, e) => { if (_batch.InUnit) _batch.TrackedByUnit.Add(e.Entry.Entity); };
    }

    /// <summary>Runs a batch and answers every unit in it. Never throws for a unit's or the database's sake.</summary>
    internal async Task RunAsync(IReadOnlyList<QueuedUnit> units)
    {
        if (units.Count > 1)
        {
            var marker = $"writer batch {Guid.CreateVersion7():N}";
            var committing = false;
            try
            {
                await RunTogetherAsync(units, marker, () => committing = true);
                Answer(units);
                return;
            }
            catch (Exception e)
            {
                Runtime.Metrics.BatchFailed(Name, Db.Module, units.Count);
                await CloseConnectionAsync();
                Runtime.Logger.LogWarning("SingleWriter {Module}: a batch of {Count} failed ({Reason}: {Message}); its units run one by one",
                    Db.Module, units.Count, Conflicts.Reason(e), e.Message);
                if (committing && await CommittedAsync(marker, units)) return;
            }
            finally
            {
                EndBatch();
            }
        }
        // A lone unit, or a failed batch's units: each in its own transaction, with the re-runs of every strategy.
        foreach (var unit in units) await unit.RunAloneAsync(this);
    }

    async Task RunTogetherAsync(IReadOnlyList<QueuedUnit> units, string marker, Action committing)
    {
        StartBatch();
        // Changes are detected per unit, on the rows the unit could have changed, not on the whole tracker each time.
        Db.ChangeTracker.AutoDetectChangesEnabled = false;
        Db.BeforeCommand = _batch.BeforeCommand;
        await DropFailedTransactionAsync();
        await OpenConnectionAsync();
        await using var tx = await Db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted);
        await LockDeclaredAsync(units.Select(u => u.Keys), CancellationToken.None);
        foreach (var unit in units)
        {
            if (_batch.Unsaved && _readers.Contains(unit.Code)) await SaveAsync();
            if (await RunUnitAsync(unit, attempt: 1, units.Count)) continue;
            // It read behind unsaved changes: what it decided may rest on stale rows. Undo, save, run it again.
            _readers.Add(unit.Code);
            await SaveAsync();
            await RunUnitAsync(unit, attempt: 2, units.Count);
        }
        MarkBatch(marker);
        await SaveAsync();
        committing();
        await tx.CommitAsync(CancellationToken.None);
        _lastMarker = marker;
        Runtime.Metrics.BatchCommitted(Name, Db.Module, units.Count);
    }

    /// <summary>One unit inside the batch; false if it read the database behind unsaved changes and was undone.</summary>
    async Task<bool> RunUnitAsync(QueuedUnit unit, int attempt, int batchSize)
    {
        ForgetClaims();
        _batch.TrackedByUnit.Clear();
        _batch.ReadBehindUnsaved = false;
        Runtime.Metrics.Attempted(Name, Db.Module);
        using var span = Telemetry.StartAttempt(Name, Db.Module, attempt, unit.CallerSpan)?.SetTag(Telemetry.Attributes.BatchSize, batchSize);
        _batch.InUnit = true;
        try
        {
            await unit.RunInBatchAsync(this, CancellationToken.None);
            // Its outcome is the batch's commit; a batch that fails runs its units again, each with spans of its own.
            span?.SetTag(Telemetry.Attributes.Outcome, _batch.ReadBehindUnsaved ? "re-run: read behind unsaved changes" : "batched");
            if (_batch.ReadBehindUnsaved) { UndoUnit(); return false; }
            SettleUnit();
            _batch.Unsaved = true;
        }
        catch (Exception e) when (!IsDatabaseFailure(e))
        {
            span.Ended(e);
            UndoUnit();
            if (_batch.ReadBehindUnsaved) return false;
            unit.Refuse(e);
        }
        finally
        {
            _batch.InUnit = false;
        }
        return true;
    }

    /// <summary>
    /// Ends a unit that succeeded: each held row it changed must be one it claimed, and goes up one version; the rows
    /// it inserted are held from now on.
    /// </summary>
    void SettleUnit()
    {
        var changed = _batch.Held.Values.Select(Db.Entry).Where(entry =>
        {
            entry.DetectChanges();
            var settled = _batch.Settled[(IVersioned)entry.Entity];
            return entry.Properties.Any(p => !Equals(p.CurrentValue, settled[p.Metadata]));
        }).ToList();
        foreach (var entry in changed) EnsureClaimed(entry);
        if (WritesEveryClaimedRow) changed.AddRange(Claimed.Where(row => changed.All(e => e.Entity != row)).Select(row => Db.Entry(row)));
        foreach (var entry in changed)
        {
            var row = (IVersioned)entry.Entity;
            entry.Property(nameof(IVersioned.Version)).CurrentValue = (long)_batch.Settled[row][nameof(IVersioned.Version)]! + 1;
            _batch.Settled[row] = entry.CurrentValues.Clone();
        }
        foreach (var entity in _batch.TrackedByUnit)
        {
            var entry = Db.Entry(entity);
            entry.DetectChanges();
            if (entry is { State: EntityState.Added, Entity: IVersioned inserted }) Hold(inserted);
        }
    }

    /// <summary>Undoes a refused unit in memory: what it added or read goes, the held rows return to where the last unit left them.</summary>
    void UndoUnit()
    {
        foreach (var entity in _batch.TrackedByUnit)
            if (entity is not IVersioned row || !_batch.Held.ContainsKey((row.GetType(), row.Id)) || Db.Entry(entity).State == EntityState.Added)
                Db.Entry(entity).State = EntityState.Detached;
        foreach (var row in _batch.Held.Values)
            if (Db.Entry(row).State != EntityState.Detached) Db.Entry(row).CurrentValues.SetValues(_batch.Settled[row]);
        foreach (var (key, row) in _batch.Held.Where(h => Db.Entry(h.Value).State == EntityState.Detached).ToList())
        {
            _batch.Held.Remove(key);
            _batch.Locked.Remove(key);
            _batch.Settled.Remove(row);
        }
    }

    /// <summary>Saves every unit's changes so far; what is not held leaves the tracker, so later reads come fresh from the database.</summary>
    async Task SaveAsync()
    {
        _batch.OwnRead = true;
        try
        {
            Db.ChangeTracker.DetectChanges();
            await Db.SaveChangesAsync(CancellationToken.None);
        }
        finally
        {
            _batch.OwnRead = false;
        }
        foreach (var entry in Db.ChangeTracker.Entries().ToList())
            if (entry.Entity is not IVersioned row || !_batch.Held.ContainsKey((row.GetType(), row.Id)))
                entry.State = EntityState.Detached;
        _batch.Unsaved = false;
    }

    internal void CommittedAlone() => Runtime.Metrics.BatchCommitted(Name, Db.Module, 1);

    static void Answer(IReadOnlyList<QueuedUnit> units)
    {
        foreach (var unit in units) unit.Answer();
    }

    /// <summary>A lone unit, or a failed batch's unit, in a transaction of its own, re-run on conflicts like any strategy's unit.</summary>
    internal async Task<TResult> RunAloneAsync<TResult>(WriteKeys keys, UnitOfWork<TDb, TResult> work, ActivityContext callerSpan)
    {
        DeclaredKeys = keys;
        try
        {
            return await Runtime.RunAttemptsAsync(Name, Db.Module, Runtime.Retry, token => RunAsync(work, token), CancellationToken.None, callerSpan);
        }
        finally
        {
            Db.ChangeTracker.Clear();
        }
    }

    /// <summary>One attempt of a lone unit: lock its declared keys, run it, save, commit.</summary>
    protected internal override Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct)
    {
        StartBatch();
        ForgetClaims();
        return RunInOneTransactionAsync(IsolationLevel.ReadCommitted, work, ct, token => LockDeclaredAsync([DeclaredKeys], token));
    }

    protected override async Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        // Rows not declared are locked when first asked for, and held from then on like the declared ones.
        var late = ids.Where(id => !_batch.Locked.Contains((typeof(TRow), id))).Distinct().ToList();
        if (late.Count > 0) await LockAsync<TRow>(late, ct);
        return ids.Distinct().Select(id => _batch.Held.GetValueOrDefault((typeof(TRow), id))).OfType<TRow>().ToList();
    }

    public async Task LockAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) where TRow : class, IVersioned
    {
        var rows = await OwnReadAsync(() => QueryRowsAsync<TRow>(ids, DatabaseProvider.RowLockClause, ct));
        foreach (var row in rows) Hold(row);
        foreach (var id in ids) _batch.Locked.Add((typeof(TRow), id));
    }

    protected override async Task<T> OwnReadAsync<T>(Func<Task<T>> read)
    {
        _batch.OwnRead = true;
        try { return await read(); }
        finally { _batch.OwnRead = false; }
    }

    /// <summary>Every declared row of the batch in one pass per row type, types in name order and keys ascending: the global lock order.</summary>
    async Task LockDeclaredAsync(IEnumerable<WriteKeys> declared, CancellationToken ct)
    {
        foreach (var byType in declared.Where(k => k.RowType is not null).GroupBy(k => k.RowType!).OrderBy(g => g.Key.FullName, StringComparer.Ordinal))
            await byType.First().Lock(this, byType.SelectMany(k => k.Ids).Distinct().ToList(), ct);
    }

    void StartBatch()
    {
        Db.ChangeTracker.Clear();
        _batch = new Batch();
    }

    void EndBatch()
    {
        Db.BeforeCommand = null;
        Db.ChangeTracker.AutoDetectChangesEnabled = true;
        Db.ChangeTracker.Clear();
        _batch = new Batch();
    }

    void Hold(IVersioned row)
    {
        _batch.Held[(row.GetType(), row.Id)] = row;
        _batch.Locked.Add((row.GetType(), row.Id));
        _batch.Settled[row] = Db.Entry(row).CurrentValues.Clone();
    }

    /// <summary>A failure of the database or the connection, which fails the whole batch; anything else is the unit's own.</summary>
    static bool IsDatabaseFailure(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is DbException or DbUpdateException or TimeoutException) return true;
        return false;
    }

    /// <summary>
    /// Each batch saves a marker row with its units' rows (in the module's idempotency table, under a key no client can
    /// send: it has spaces) and deletes the previous batch's. If the commit fails in flight, the marker tells whether it landed.
    /// </summary>
    void MarkBatch(string marker)
    {
        static IdempotencyRecord Marker(string key) => new() { Subject = Access.Caller.NoOwner, Key = key, RequestHash = new string('0', 64), OperationId = Guid.Empty };
        Db.IdempotencyRecords.Add(Marker(marker));
        if (_lastMarker is not null) Db.Entry(Marker(_lastMarker)).State = EntityState.Deleted;
    }

    /// <summary>
    /// The writer keeps its connection between batches: no pool hand-over per batch, and the lock timeout is set once
    /// for the session instead of in every transaction (on MariaDB; on PostgreSQL the connection string carries it).
    /// </summary>
    async Task OpenConnectionAsync()
    {
        if (Db.Database.GetDbConnection().State == ConnectionState.Open) return;
        await Db.Database.OpenConnectionAsync();
        await DatabaseProvider.SetLockTimeoutAsync(Db, Runtime.Options.LockTimeout, CancellationToken.None);
    }

    /// <summary>After a failed batch the connection may be broken; the next batch opens a fresh one.</summary>
    async Task CloseConnectionAsync()
    {
        try { await Db.Database.CloseConnectionAsync(); }
        catch (Exception e) when (IsDatabaseFailure(e)) { Runtime.Logger.LogDebug("SingleWriter {Module}: closing a failed connection: {Message}", Db.Module, e.Message); }
    }

    /// <summary>After a commit failed in flight: whether it landed. If it did, the units are answered; if that cannot be known, they fail as unavailable.</summary>
    async Task<bool> CommittedAsync(string marker, IReadOnlyList<QueuedUnit> units)
    {
        try
        {
            var landed = await Db.IdempotencyRecords.AsNoTracking().AnyAsync(r => r.Subject == Access.Caller.NoOwner && r.Key == marker);
            if (!landed) return false;
            _lastMarker = marker;
            Runtime.Metrics.BatchCommitted(Name, Db.Module, units.Count);
            Answer(units);
            return true;
        }
        catch (Exception e) when (IsDatabaseFailure(e))
        {
            var unknown = new ServiceUnavailableException("The database", e);
            foreach (var unit in units) unit.Fail(unknown);
            return true;
        }
    }

    /// <summary>
    /// What one batch (or one attempt of a lone unit) knows while it runs; a new one starts with each, so nothing of it
    /// outlives its batch.
    /// </summary>
    sealed class Batch
    {
        /// <summary>Rows locked for this batch, held or found missing.</summary>
        public readonly HashSet<(Type, Guid)> Locked = [];
        public readonly Dictionary<(Type, Guid), IVersioned> Held = [];
        /// <summary>Each held row's values as the last unit that ended left them: what a refused unit returns it to.</summary>
        public readonly Dictionary<IVersioned, PropertyValues> Settled = new(ReferenceEqualityComparer.Instance);
        /// <summary>What the running unit brought into the tracker: undone with it, or held after it.</summary>
        public readonly List<object> TrackedByUnit = [];
        /// <summary>Ended units' changes not saved yet.</summary>
        public bool Unsaved;
        public bool InUnit;
        /// <summary>The session reads on a unit's behalf (its locks, its idempotency key): the session vouches for it.</summary>
        public bool OwnRead;
        public bool ReadBehindUnsaved;

        /// <summary>Before each command: a unit's own read while earlier units' changes are unsaved may decide on stale rows.</summary>
        public void BeforeCommand() => ReadBehindUnsaved |= Unsaved && InUnit && !OwnRead;
    }
}

/// <summary>A session that can lock rows of any declared type.</summary>
internal interface IRowLocks
{
    Task LockAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) where TRow : class, IVersioned;
}
