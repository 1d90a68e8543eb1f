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

    /// <summary>
    /// Within the unit's transaction: runs <paramref name="write"/> unless the key is stored (or was added by an
    /// earlier unit of this transaction, in a batch), and adds the key, to commit with the write.
    /// </summary>
    internal async Task<Guid> OnceAsync<TCommand>(TCommand command, Func<Task<Guid>> write, CancellationToken ct)
        where TCommand : IIdempotentCommand
    {
        if (command.IdempotencyKey is not { } key) return await write();
        var stored = db.IdempotencyRecords.Local.FirstOrDefault(r => r.Subject == command.Caller.Subject && r.Key == key)
                     ?? await OwnReadAsync(() => IdempotencyRecord.FindAsync(db, command.Caller.Subject, key, ct));
        return stored is not null ? stored.Replay(command) : await WriteOnceAsync(command, write);
    }

    /// <summary>Runs <paramref name="write"/> for a key found absent, and adds the key, to commit with the write.</summary>
    internal async Task<Guid> WriteOnceAsync<TCommand>(TCommand command, Func<Task<Guid>> write) where TCommand : IIdempotentCommand
    {
        var operationId = await write();
        db.IdempotencyRecords.Add(new IdempotencyRecord { Subject = command.Caller.Subject, Key = command.IdempotencyKey!, RequestHash = IdempotencyRecord.Fingerprint(command), OperationId = operationId });
        return operationId;
    }

    /// <summary>A read the strategy makes on the unit's behalf and whose freshness it vouches for.</summary>
    protected virtual Task<T> OwnReadAsync<T>(Func<Task<T>> read) => read();

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
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return result;
    }

    protected async Task<IDbContextTransaction> BeginAsync(IsolationLevel? isolation, CancellationToken ct)
    {
        // A unit that fails is rolled back whole and re-run from fresh reads, never resumed, so the savepoint EF would
        // wrap around SaveChanges inside this transaction is two statements that nothing uses.
        db.Database.AutoSavepointsEnabled = false;
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

    // The text of each row load, by context, row type, key count and locking clause: built once, not per unit.
    static readonly System.Collections.Concurrent.ConcurrentDictionary<(Type, Type, int, string), string> RowQueries = new();

    /// <summary>SELECT the rows by key, in ascending key order, with an optional locking clause.</summary>
    protected async Task<IReadOnlyList<TRow>> QueryRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, string lockClause, CancellationToken ct)
        where TRow : class, IVersioned
    {
        if (ids.Count == 0) return [];
        var args = ids.Distinct().Cast<object>().ToArray();
        var sql = RowQueries.GetOrAdd((typeof(TDb), typeof(TRow), args.Length, lockClause), _ =>
        {
            var (table, key, _) = Names<TRow>();
            var list = string.Join(", ", args.Select((_, i) => $"{{{i}}}"));
            // Only identifiers from the EF model are spliced in; the keys are parameters.
            return $"SELECT * FROM {table} WHERE {key} IN ({list}) ORDER BY {key} {lockClause}";
        });
        var started = Stopwatch.GetTimestamp();
        var rows = await db.Set<TRow>().FromSqlRaw(sql, args).ToListAsync(ct);
        if (lockClause.Length > 0) RecordLockWait(started);
        return rows;
    }

    /// <summary>
    /// Writes every claimed row (changed or not) with one UPDATE ... SET changed columns, version = version + 1
    /// WHERE id = @id AND <paramref name="guard"/>, in key order; a row the UPDATE misses is refused with the exception
    /// <paramref name="refused"/> makes. The guard gets the entry, the version read (as a parameter placeholder) and a
    /// function that adds a parameter; it returns the condition and any extra assignments.
    /// </summary>
    protected async Task WriteClaimedRowsAsync(
        Func<EntityEntry, string, Func<object, string>, (string Condition, IEnumerable<string> Sets)> guard,
        Func<EntityEntry, long, Task<Exception>> refused, CancellationToken ct)
    {
        foreach (var changed in ChangedVersionedRows()) EnsureClaimed(changed);
        var claimed = Claimed.Select(row => db.Entry(row))
            .OrderBy(e => e.Metadata.Name, StringComparer.Ordinal).ThenBy(e => ((IVersioned)e.Entity).Id);
        foreach (var entry in claimed)
        {
            var (table, key, version) = Names(entry.Metadata);
            var args = new List<object>();
            string Arg(object value) { args.Add(value); return $"{{{args.Count - 1}}}"; }

            var read = (long)entry.Property(nameof(IVersioned.Version)).OriginalValue!;
            var (condition, extraSets) = guard(entry, Arg(read), Arg);
            var sets = entry.Properties
                .Where(p => p.IsModified && p.Metadata.Name is not (nameof(IVersioned.Version) or nameof(IFenced.FenceToken)))
                .Select(p => $"{Column(entry.Metadata, p.Metadata.Name)} = {Arg(ToProvider(p))}")
                .Concat(extraSets)
                .Append($"{version} = {version} + 1");
            var sql = $"UPDATE {table} SET {string.Join(", ", sets)} WHERE {key} = {Arg(((IVersioned)entry.Entity).Id)} AND {condition}";

            if (await db.Database.ExecuteSqlRawAsync(sql, args, ct) != 1) throw await refused(entry, read);
            entry.Property(nameof(IVersioned.Version)).CurrentValue = read + 1;
            entry.State = EntityState.Unchanged;
        }
    }

    /// <summary>A property's value as the database stores it (through its value converter: enums as text), null as DBNull.</summary>
    static object ToProvider(PropertyEntry property)
    {
        var converter = property.Metadata.GetTypeMapping().Converter;
        var value = converter is null ? property.CurrentValue : converter.ConvertToProvider(property.CurrentValue);
        return value ?? DBNull.Value;
    }

    /// <summary>Records the time since <paramref name="started"/> (a Stopwatch timestamp) as time spent acquiring locks.</summary>
    protected void RecordLockWait(long started)
    {
        var waited = Stopwatch.GetElapsedTime(started);
        runtime.Metrics.LockWaited(Name, db.Module, waited);
        runtime.Logger.LogDebug("{Strategy} waited {WaitedMs:F1} ms for {Module} locks", Name, waited.TotalMilliseconds, db.Module);
    }

    /// <summary>
    /// Finds what the unit changed, once, when it has decided: the version bumps, the writes and SaveChanges that follow
    /// read the change tracker as it stands, instead of each scanning every tracked row again.
    /// </summary>
    protected void DetectChangesOnce()
    {
        db.ChangeTracker.DetectChanges();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
    }

    /// <summary>
    /// Each changed row's version goes up by one per committed unit; strategies that write through SaveChanges call this
    /// first. On a multi-primary cluster every claimed row's does, changed or not (<see cref="WritesEveryClaimedRow"/>).
    /// </summary>
    protected void BumpVersions()
    {
        foreach (var entry in ChangedVersionedRows())
        {
            EnsureClaimed(entry);
            var version = entry.Property(nameof(IVersioned.Version));
            version.CurrentValue = (long)version.OriginalValue! + 1;
        }
        if (!WritesEveryClaimedRow) return;
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

    protected (string Table, string Key, string Version) Names<TRow>() => Names(db.Model.FindEntityType(typeof(TRow))!);

    protected (string Table, string Key, string Version) Names(IEntityType entity) =>
        (Table(entity), Column(entity, nameof(IVersioned.Id)), Column(entity, nameof(IVersioned.Version)));

    protected string Column(IEntityType entity, string property)
    {
        var store = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        return db.GetService<ISqlGenerationHelper>().DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(store)!);
    }

    protected string Table(IEntityType entity) =>
        db.GetService<ISqlGenerationHelper>().DelimitIdentifier(entity.GetTableName()!, entity.GetSchema());
}
