using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// The writer keeps its connection between batches: no pool hand-over per batch, and the lock timeout is set once for
/// the session instead of in every transaction (on MariaDB; on PostgreSQL the connection string carries it).
/// </summary>
internal static class WriterConnection
{
    public static async Task OpenAsync(ModuleDbContext db, TimeSpan lockTimeout)
    {
        if (db.Database.GetDbConnection().State == ConnectionState.Open) return;
        await db.Database.OpenConnectionAsync();
        await DatabaseProvider.SetLockTimeoutAsync(db, lockTimeout, CancellationToken.None);
    }

    /// <summary>After a failed batch the connection may be broken; the next batch opens a fresh one.</summary>
    public static async Task CloseAsync(ModuleDbContext db, ILogger logger)
    {
        try { await db.Database.CloseConnectionAsync(); }
        catch (Exception e) when (IsDatabaseFailure(e)) { logger.LogDebug("SingleWriter {Module}: closing a failed connection: {Message}", db.Module, e.Message); }
    }

    /// <summary>A failure of the database or the connection, which fails the whole batch; anything else is the unit's own.</summary>
    public static bool IsDatabaseFailure(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is DbException or DbUpdateException or TimeoutException) return true;
        return false;
    }
}
