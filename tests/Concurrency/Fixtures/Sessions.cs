using Microsoft.EntityFrameworkCore;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>Database sessions by id, to kill one from outside as a failing network or an operator would. The tests' provider seam.</summary>
internal static class Sessions
{
    public static Task<long> IdAsync(DbContext db, CancellationToken ct = default) =>
#if MYSQL
        db.Database.SqlQueryRaw<long>("SELECT CAST(CONNECTION_ID() AS SIGNED) AS Value").SingleAsync(ct);
#else
        db.Database.SqlQueryRaw<long>("""SELECT pg_backend_pid()::bigint AS "Value" """).SingleAsync(ct);
#endif

    public static Task KillAsync(DbContext probe, long session, CancellationToken ct = default) =>
#if MYSQL
        probe.Database.ExecuteSqlRawAsync($"KILL CONNECTION {session}", ct);
#else
        probe.Database.ExecuteSqlRawAsync("SELECT pg_terminate_backend({0}::int)", [session], ct);
#endif
}
