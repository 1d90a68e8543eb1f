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
internal sealed class BatchSession<TDb> : WriteSession<TDb> where TDb : ModuleDbContext
{
    /// <summary>Kinds of unit seen reading the database; the batch is saved before each unit of these kinds runs.</summary>
    readonly HashSet<System.Reflection.MethodInfo> _readers = [];
    readonly CommitMarkers _markers = new();
    Batch _batch;

    public BatchSession(TDb db, StrategyRuntime runtime) : base(db, nameof(StrategyName.SingleWriter), runtime)
    {
        _batch = new Batch(db);
        db.ChangeTracker.Tracked += (_, e) => { if (_batch.InUnit) _batch.TrackedByUnit.Add(e.Entry.Entity); };
    }

    /// <summary>Runs a batch and answers every unit in it. Never throws for a unit's or the database's sake.</summary>
    internal async Task RunAsync(IReadOnlyList<QueuedUnit> units)
    {
        if (units.Count > 1)
        {
            var marker = CommitMarkers.NewMarker();
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
                await WriterConnection.CloseAsync(Db, Runtime.Logger);
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
        using var watch = ReadWatch.Start(Db, _batch.BeforeCommand);
        await DropFailedTransactionAsync();
        await WriterConnection.OpenAsync(Db, Runtime.Options.LockTimeout);
        await using var tx = await Db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted);
        await LockDeclaredAsync(units.Select(u => u.Keys), CancellationToken.None);
        foreach (var unit in units)
        {
            if (_batch.Unsaved && _readers.Contains(unit.Kind)) await SaveAsync();
            if (await RunUnitAsync(unit, attempt: 1, units.Count)) continue;
            // It read behind unsaved changes: what it decided may rest on stale rows. Undo, save, run it again.
            _readers.Add(unit.Kind);
            await SaveAsync();
            await RunUnitAsync(unit, attempt: 2, units.Count);
        }
        _markers.Add(Db, marker);
        await SaveAsync();
        committing();
        await tx.CommitAsync(CancellationToken.None);
        _markers.Landed(marker);
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
            if (_batch.ReadBehindUnsaved) { _batch.Undo(); return false; }
            _batch.Settle(Claimed, EnsureClaimed, WritesEveryClaimedRow);
            _batch.Unsaved = true;
        }
        catch (Exception e) when (!WriterConnection.IsDatabaseFailure(e))
        {
            span.Ended(e);
            _batch.Undo();
            if (_batch.ReadBehindUnsaved) return false;
            unit.Refuse(e);
        }
        finally
        {
            _batch.InUnit = false;
        }
        return true;
    }

    /// <summary>Saves every unit's changes so far; what is not held leaves the tracker, so later reads come fresh from the database.</summary>
    async Task SaveAsync()
    {
        _batch.OwnRead = true;
        try
        {
            Db.ChangeTracker.DetectChanges();
            await WriteAsync(guard: null, CancellationToken.None);
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
        return RunInOneTransactionAsync(IsolationLevel.ReadCommitted, work, ct, async token =>
        {
            await LockDeclaredAsync([DeclaredKeys], token);
            // Locked, not yet claimed: the unit claims what it loads.
            ForgetClaims();
        });
    }

    protected override async Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        // Rows not declared are locked when first asked for, and held from then on like the declared ones.
        var late = ids.Where(id => !_batch.Locked.Contains((typeof(TRow), id))).Distinct().ToList();
        if (late.Count > 0) await LockAsync<TRow>(late, ct);
        return ids.Distinct().Select(id => _batch.Held.GetValueOrDefault((typeof(TRow), id))).OfType<TRow>().ToList();
    }

    async Task LockAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) where TRow : class, IVersioned
    {
        var rows = await OwnReadAsync(() => QueryRowsAsync<TRow>(ids, DatabaseProvider.RowLockClause, ct));
        foreach (var row in rows) _batch.Hold(row);
        foreach (var id in ids) _batch.Locked.Add((typeof(TRow), id));
    }

    /// <summary>
    /// Within the batch's transaction: runs <paramref name="write"/> unless the key is stored (or was added by an earlier
    /// unit of this batch), and adds the key, to commit with the write.
    /// </summary>
    internal async Task<Guid> OnceAsync<TCommand>(TCommand command, Func<Task<Guid>> write, CancellationToken ct)
        where TCommand : IIdempotentCommand
    {
        if (command.IdempotencyKey is not { } key) return await write();
        var stored = Db.IdempotencyRecords.Local.FirstOrDefault(r => r.Subject == command.Caller.Subject && r.Key == key)
                     ?? await OwnReadAsync(() => IdempotencyRecord.FindAsync(Db, command.Caller.Subject, key, ct));
        return stored is not null ? stored.Replay(command) : await WriteOnceAsync(command, write);
    }

    /// <summary>A read the session makes on a unit's behalf (its locks, its idempotency key), whose freshness it vouches for.</summary>
    async Task<T> OwnReadAsync<T>(Func<Task<T>> read)
    {
        _batch.OwnRead = true;
        try { return await read(); }
        finally { _batch.OwnRead = false; }
    }

    /// <summary>Every declared row of the batch in one pass per row type, types in name order and keys ascending: the global lock order.</summary>
    async Task LockDeclaredAsync(IEnumerable<WriteKeys> declared, CancellationToken ct)
    {
        foreach (var byType in declared.Where(k => k.RowType is not null).GroupBy(k => k.RowType!).OrderBy(g => g.Key.FullName, StringComparer.Ordinal))
            await byType.First().LoadForWrite(this, byType.SelectMany(k => k.Ids).Distinct().ToList(), ct);
    }

    void StartBatch()
    {
        Db.ChangeTracker.Clear();
        _batch = new Batch(Db);
    }

    void EndBatch()
    {
        Db.ChangeTracker.AutoDetectChangesEnabled = true;
        Db.ChangeTracker.Clear();
        _batch = new Batch(Db);
    }

    /// <summary>After a commit failed in flight: whether it landed. If it did, the units are answered; if that cannot be known, they fail as unavailable.</summary>
    async Task<bool> CommittedAsync(string marker, IReadOnlyList<QueuedUnit> units)
    {
        try
        {
            if (!await _markers.LandedAsync(Db, marker)) return false;
            Runtime.Metrics.BatchCommitted(Name, Db.Module, units.Count);
            Answer(units);
            return true;
        }
        catch (Exception e) when (WriterConnection.IsDatabaseFailure(e))
        {
            var unknown = new ServiceUnavailableException("The database", e);
            foreach (var unit in units) unit.Fail(unknown);
            return true;
        }
    }
}
