using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// Each batch saves a marker row with its units' rows (in the module's idempotency table, under a key no client can
/// send: it has spaces) and deletes the previous batch's. If the commit fails in flight, the marker tells whether it landed.
/// </summary>
internal sealed class CommitMarkers
{
    string? _last;

    public static string NewMarker() => $"writer batch {Guid.CreateVersion7():N}";

    /// <summary>Adds <paramref name="marker"/> to the batch's changes, and the removal of the last batch's.</summary>
    public void Add(ModuleDbContext db, string marker)
    {
        db.IdempotencyRecords.Add(Row(marker));
        if (_last is not null) db.Entry(Row(_last)).State = EntityState.Deleted;
    }

    /// <summary>The batch of <paramref name="marker"/> committed: its marker is the one the next batch removes.</summary>
    public void Landed(string marker) => _last = marker;

    /// <summary>Whether the batch of <paramref name="marker"/> committed, after its commit failed in flight.</summary>
    public async Task<bool> LandedAsync(ModuleDbContext db, string marker)
    {
        if (!await db.IdempotencyRecords.AsNoTracking().AnyAsync(r => r.Subject == Access.Caller.NoOwner && r.Key == marker)) return false;
        Landed(marker);
        return true;
    }

    static IdempotencyRecord Row(string key) => new() { Subject = Access.Caller.NoOwner, Key = key, RequestHash = new string('0', 64), OperationId = Guid.Empty };
}
