using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// What one batch (or one attempt of a lone unit) knows while it runs; a new one starts with each, so nothing of it
/// outlives its batch.
/// </summary>
internal sealed class Batch(DbContext db)
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

    /// <summary>Holds <paramref name="row"/>, locked, to the batch's end, with its values as they stand now.</summary>
    public void Hold(IVersioned row)
    {
        Held[(row.GetType(), row.Id)] = row;
        Locked.Add((row.GetType(), row.Id));
        Settled[row] = db.Entry(row).CurrentValues.Clone();
    }

    /// <summary>Undoes a refused unit in memory: what it added or read goes, the held rows return to where the last unit left them.</summary>
    public void Undo()
    {
        foreach (var entity in TrackedByUnit)
            if (entity is not IVersioned row || !Held.ContainsKey((row.GetType(), row.Id)) || db.Entry(entity).State == EntityState.Added)
                db.Entry(entity).State = EntityState.Detached;
        foreach (var row in Held.Values)
            if (db.Entry(row).State != EntityState.Detached) db.Entry(row).CurrentValues.SetValues(Settled[row]);
        foreach (var (key, row) in Held.Where(h => db.Entry(h.Value).State == EntityState.Detached).ToList())
        {
            Held.Remove(key);
            Locked.Remove(key);
            Settled.Remove(row);
        }
    }

    /// <summary>
    /// Ends a unit that succeeded: each held row it changed must be one it claimed, and goes up one version; the rows
    /// it inserted are held from now on.
    /// </summary>
    public void Settle(IReadOnlyCollection<IVersioned> claimed, Action<EntityEntry> ensureClaimed, bool writesEveryClaimedRow)
    {
        var changed = Held.Values.Select(db.Entry).Where(entry =>
        {
            entry.DetectChanges();
            var settled = Settled[(IVersioned)entry.Entity];
            return entry.Properties.Any(p => !Equals(p.CurrentValue, settled[p.Metadata]));
        }).ToList();
        foreach (var entry in changed) ensureClaimed(entry);
        if (writesEveryClaimedRow) changed.AddRange(claimed.Where(row => changed.All(e => e.Entity != row)).Select(row => db.Entry(row)));
        foreach (var entry in changed)
        {
            var row = (IVersioned)entry.Entity;
            entry.Property(nameof(IVersioned.Version)).CurrentValue = (long)Settled[row][nameof(IVersioned.Version)]! + 1;
            Settled[row] = entry.CurrentValues.Clone();
        }
        foreach (var entity in TrackedByUnit)
        {
            var entry = db.Entry(entity);
            entry.DetectChanges();
            if (entry is { State: EntityState.Added, Entity: IVersioned inserted }) Hold(inserted);
        }
    }
}
