using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// Sees a session wait for a lock, so an interleaving test can tell "blocked" from "not yet arrived" without timing.
/// The tests' provider seam.
/// </summary>
internal static class LockWaits
{
#if MYSQL
    // MariaDB's information_schema.INNODB_TRX was seen reporting a waiting UPDATE as RUNNING (transaction id 0)
    // while the engine's own status listed it under LOCK WAIT; the engine status is the reliable witness.
    public static async Task<long> CountAsync(DbContext probe, CancellationToken ct = default)
    {
        var table = $" of table `{probe.Database.GetDbConnection().Database}`.";
        return (await TransactionsSectionAsync(probe, ct)).Split("---TRANSACTION")
            .Count(t => t.Contains("LOCK WAIT") && t.Contains("WAITING") && t.Contains(table));
    }

    /// <summary>What each waiting session of this database waits on: "index `i` of table `db`.`t`" from the engine status.</summary>
    public static async Task<IReadOnlyList<string>> WaitedOnAsync(DbContext probe, CancellationToken ct = default)
    {
        var section = await TransactionsSectionAsync(probe, ct);
        return System.Text.RegularExpressions.Regex
            .Matches(section, @"FOR THIS LOCK TO BE GRANTED:\s*\n\s*RECORD LOCKS [^\n]*?(index \S+ of table \S+)")
            .Select(m => m.Groups[1].Value)
            .Where(w => w.Contains($"`{probe.Database.GetDbConnection().Database}`."))
            .ToList();
    }

    /// <summary>
    /// The engine status's TRANSACTIONS section: the sessions as they are now. The LATEST DETECTED DEADLOCK section
    /// before it also reads "LOCK WAIT" and "WAITING FOR THIS LOCK", about a deadlock long resolved; counted, it made
    /// every session of a database that once deadlocked look blocked.
    /// </summary>
    static async Task<string> TransactionsSectionAsync(DbContext probe, CancellationToken ct)
    {
        var connection = probe.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open) await probe.Database.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW ENGINE INNODB STATUS";
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return "";
        var status = reader.GetString(2);
        var start = status.IndexOf("\nTRANSACTIONS\n", StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException("The engine status has no TRANSACTIONS section.");
        var end = status.IndexOf("\nFILE I/O\n", start, StringComparison.Ordinal);
        return end < 0 ? status[start..] : status[start..end];
    }
#else
    /// <summary>What each waiting session of this database waits on: the lock type and, for a relation's lock, the relation.</summary>
    public static async Task<IReadOnlyList<string>> WaitedOnAsync(DbContext probe, CancellationToken ct = default) =>
        await probe.Database.SqlQueryRaw<string>(
            """
            SELECT l.locktype || COALESCE(' on ' || l.relation::regclass::text, '') AS "Value"
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND a.datname = current_database()
            """).ToListAsync(ct);

    public static async Task<long> CountAsync(DbContext probe, CancellationToken ct = default) =>
        await probe.Database.SqlQueryRaw<long>(
            """
            SELECT COUNT(*) AS "Value" FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
            """).SingleAsync(ct);
#endif

    /// <summary>Waits until <paramref name="arrived"/> completes or some session of this database waits for a lock; true if blocked.</summary>
    /// <remarks><paramref name="waitsOutsideTheDatabase"/> sees a wait the database cannot: a lock held in Redis.</remarks>
    public static async Task<bool> ArrivedOrBlockedAsync(Task arrived, DbContext probe, Func<Task<bool>>? waitsOutsideTheDatabase = null)
    {
        // A bound for a hung test, not a measurement: either event comes within milliseconds.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (arrived.IsCompleted) { await arrived; return false; }
            if (await CountAsync(probe) > 0) return true;
            if (waitsOutsideTheDatabase is not null && await waitsOutsideTheDatabase()) return true;
            await Task.Delay(5);
        }
        throw new TimeoutException("The session neither arrived nor waited for a lock within a minute.");
    }

    public static bool IsMySql => DatabaseProvider.Current == DatabaseKind.MySql;
}
