using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
#if MYSQL
using MySqlConnector;
#else
using Npgsql;
#endif

namespace Monolith.Shared.Persistence;

public enum DatabaseKind { PostgreSql, MySql }

/// <summary>How a database error bears on the unit of work that raised it.</summary>
public enum FailureKind
{
    Other,
    /// <summary>A conflict with a concurrent unit: re-run it from fresh reads.</summary>
    Retryable,
    /// <summary>A CHECK constraint refused the change: a rule raced past its check.</summary>
    ConstraintViolated,
    /// <summary>
    /// The database could not be reached or did not answer in time (down, frozen, restarting, the connection killed,
    /// the pool exhausted): 503. Not re-run here: a commit it cut off may have landed, and the client's retry with its
    /// idempotency key finds out.
    /// </summary>
    Unavailable,
}

/// <summary>Which kind of retryable conflict a database error code names, for the bench's and the logs' breakdowns.</summary>
public enum ConflictKind { Other, Deadlock, Serialization, LockTimeout }

/// <summary>
/// The provider seam: the only place that knows which database this build targets (docs/adr/0001).
/// Everything provider-specific in SQL text, error codes and EF configuration lives here.
/// </summary>
public static class DatabaseProvider
{
#if MYSQL
    public const DatabaseKind Current = DatabaseKind.MySql;
    // Fixed rather than auto-detected: detection opens a connection while options are built.
    static readonly ServerVersion ServerVersion = new MariaDbServerVersion(new Version(10, 11));
#else
    public const DatabaseKind Current = DatabaseKind.PostgreSql;
#endif

    public static TBuilder UseModuleDatabase<TBuilder>(this TBuilder options, string connectionString, string module)
        where TBuilder : DbContextOptionsBuilder
    {
#if MYSQL
        options.UseMySql(connectionString, ServerVersion, o => o.MigrationsHistoryTable($"{module}__ef_migrations_history"));
#else
        options.UseNpgsql(connectionString, o => o.MigrationsHistoryTable("__ef_migrations_history", module));
#endif
        return options;
    }

    /// <summary>The databases ./dev creates; for design-time tools, tests and the bench.</summary>
    public const string DefaultConnectionString =
#if MYSQL
        "Server=127.0.0.1;Port=3306;Database=monolith;User ID=monolith;Password=monolith;SslMode=None;Maximum Pool Size=200";
#else
        "Host=127.0.0.1;Port=5432;Database=monolith;Username=monolith;Password=monolith;SSL Mode=Disable;Maximum Pool Size=200";
#endif

    /// <summary>A connection of this build's driver, for code that speaks SQL without EF (the bench's raw ceiling).</summary>
    public static System.Data.Common.DbConnection Connect(string connectionString) =>
#if MYSQL
        new MySqlConnection(connectionString);
#else
        new NpgsqlConnection(connectionString);
#endif

    /// <summary>PostgreSQL: one schema per module. MySQL has no schemas inside a database: a table prefix instead.</summary>
    public static void PlaceInModule(this ModelBuilder model, string module)
    {
#if MYSQL
        foreach (var entity in model.Model.GetEntityTypes())
            entity.SetTableName($"{module}_{entity.GetTableName()}");
#else
        model.HasDefaultSchema(module);
#endif
    }

    /// <summary>A module's table as SQL names it, placed as <see cref="PlaceInModule"/> places it.</summary>
    public static string ModuleTable(string module, string table) =>
#if MYSQL
        $"`{module}_{table}`";
#else
        $"{module}.{table}";
#endif

    /// <summary>
    /// The statement that clears a table's dead row versions, where the database must be told: PostgreSQL's VACUUM.
    /// InnoDB purges its undo by itself: null.
    /// </summary>
    public static string? VacuumSql(string table) =>
#if MYSQL
        null;
#else
        $"VACUUM {table}";
#endif

    /// <summary>
    /// The name of the ActivitySource and the Meter of this build's ADO.NET driver (Npgsql's, MySqlConnector's), under
    /// which it publishes a span per command and its connection-pool metrics.
    /// </summary>
    public const string ClientTelemetryName =
#if MYSQL
        "MySqlConnector";
#else
        "Npgsql";
#endif

    /// <summary>
    /// Row lock for rows about to be updated. On PostgreSQL FOR NO KEY UPDATE: it does not conflict with the
    /// FOR KEY SHARE that foreign-key checks of child inserts take, which FOR UPDATE would (docs/strategies.md).
    /// </summary>
    public const string RowLockClause =
#if MYSQL
        "FOR UPDATE";
#else
        "FOR NO KEY UPDATE";
#endif

    public const string ShareLockClause =
#if MYSQL
        "LOCK IN SHARE MODE";
#else
        "FOR SHARE";
#endif

    /// <summary>SQL for the database clock, used as the default of created-at columns.</summary>
    public const string ClockSql =
#if MYSQL
        "(UTC_TIMESTAMP(6))";
#else
        // clock_timestamp, not now(): now() is the transaction's start, which would order a waiting writer's rows
        // before those of the writer it waited for.
        "clock_timestamp()";
#endif

    /// <summary>
    /// Bounds how long one statement waits for a lock, on the connection <paramref name="db"/> holds; a timeout is
    /// retryable. On PostgreSQL the connection string carries it as a startup parameter (<see cref="WithDriverSettings"/>),
    /// so this costs no round trip. MySqlConnector has no startup parameters and resets the session whenever the pool
    /// hands the connection out, so on MariaDB every unit sets it.
    /// </summary>
    public static Task SetLockTimeoutAsync(DbContext db, TimeSpan timeout, CancellationToken ct)
    {
#if MYSQL
        // InnoDB takes whole seconds; 1205 rolls back only the statement, so the strategy rolls back the transaction.
        var sql = $"SET SESSION innodb_lock_wait_timeout = {Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds))}";
        return db.Database.ExecuteSqlRawAsync(sql, ct);
#else
        return Task.CompletedTask;
#endif
    }

#if !MYSQL
    static string LockTimeoutMilliseconds(TimeSpan timeout) => $"{Math.Max(1, (long)timeout.TotalMilliseconds)}ms";
#endif

    /// <summary>Statements a SERIALIZABLE transaction runs first.</summary>
    public static Task PrepareSerializableAsync(DbContext db, CancellationToken ct)
    {
#if MYSQL
        return Task.CompletedTask;
#else
        // A sequential scan takes a predicate lock on the whole relation, so every pair of concurrent
        // transactions would conflict; index scans lock only the keys read (measured: docs/strategies.md, SerializableRetry).
        return db.Database.ExecuteSqlRawAsync("SET LOCAL enable_seqscan = off", ct);
#endif
    }

    /// <summary>GapLock's isolation: InnoDB takes next-key locks only under REPEATABLE READ (or SERIALIZABLE).</summary>
    public const System.Data.IsolationLevel GapLockIsolation =
#if MYSQL
        System.Data.IsolationLevel.RepeatableRead;
#else
        System.Data.IsolationLevel.ReadCommitted;
#endif

    /// <summary>
    /// Locks the range of append-only rows owned by one key; {0} is <see cref="AppendOnlyRangeLockKey"/>.
    /// InnoDB, two locking reads over the (owner, key) index, named so that the planner cannot scan another, and no
    /// plain read (at REPEATABLE READ a plain read would fix the transaction's snapshot before the lock is granted, and
    /// the unit's later reads would be stale):
    /// first the owner's oldest row, scanning upwards, which queues the owner's writers without taking any gap; then,
    /// with no competitor left in the range, the newest row and the gap above it, where the owner's next insert would
    /// go. Keys only grow, so no insert can land anywhere else. Taking the newest row first (ORDER BY key DESC) takes
    /// that gap before queueing on the row, and the holder's insert then deadlocks with the waiter (docs/strategies.md
    /// has the measurement).
    /// PostgreSQL: FOR UPDATE locks existing rows only and a concurrent insert is not blocked, so a
    /// transaction-scoped advisory lock on the owner instead.
    /// </summary>
    public static string AppendOnlyRangeLockSql(string table, string ownerColumn, string keyColumn, string ownerKeyIndex) =>
#if MYSQL
        $"SELECT {keyColumn} FROM {table} FORCE INDEX ({ownerKeyIndex}) WHERE {ownerColumn} = {{0}} ORDER BY {keyColumn} LIMIT 1 FOR UPDATE; " +
        $"SELECT {keyColumn} FROM {table} FORCE INDEX ({ownerKeyIndex}) WHERE {ownerColumn} = {{0}} ORDER BY {keyColumn} DESC LIMIT 1 FOR UPDATE";
#else
        "SELECT pg_advisory_xact_lock(hashtextextended({0}, 0))";
#endif

    public static object AppendOnlyRangeLockKey(string table, Guid owner) =>
#if MYSQL
        owner;
#else
        $"{table}:{owner}";
#endif

    /// <summary>
    /// How GapLock reads the owners after locking their ranges. Under REPEATABLE READ a plain read could come from a
    /// snapshot taken before the lock; a share-mode read is a current read. READ COMMITTED reads fresh anyway.
    /// </summary>
    public const string GapLockOwnerReadClause =
#if MYSQL
        ShareLockClause;
#else
        "";
#endif

    /// <summary>The database's own code for the first database error in the chain: SQLSTATE, or the MySQL error number.</summary>
    public static string? ErrorCode(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
#if MYSQL
            if (e is MySqlException my) return ((int)my.ErrorCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
#else
            if (e is PostgresException pg) return pg.SqlState;
#endif
        }
        return null;
    }

    /// <summary>What a conflict's error code (<see cref="ErrorCode"/>, as the conflicts metric tags it) names.</summary>
    public static ConflictKind ConflictKindOf(string? code) => code switch
    {
#if MYSQL
        "1213" => ConflictKind.Deadlock,
        "1205" => ConflictKind.LockTimeout,
#else
        PostgresErrorCodes.DeadlockDetected => ConflictKind.Deadlock,
        PostgresErrorCodes.SerializationFailure => ConflictKind.Serialization,
        PostgresErrorCodes.LockNotAvailable => ConflictKind.LockTimeout,
#endif
        _ => ConflictKind.Other,
    };

    public static FailureKind Classify(Exception exception)
    {
        // The first error in the chain that says what happened; a driver's wrapper ("Failed to read the result set")
        // may say nothing, and its inner exception (the stream that ended) does.
        for (var e = exception; e is not null; e = e.InnerException)
            if (ClassifyOne(e) is var kind and not FailureKind.Other) return kind;
        return FailureKind.Other;
    }

    static FailureKind ClassifyOne(Exception e)
    {
#if MYSQL
        if (e is MySqlException my)
            return my.ErrorCode switch
            {
                MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout => FailureKind.Retryable,
                // A concurrent writer committed the same unique key first (an idempotency key): re-run and see it.
                MySqlErrorCode.DuplicateKeyEntry => FailureKind.Retryable,
                (MySqlErrorCode)4025 /* ER_CONSTRAINT_FAILED (MariaDB CHECK) */ => FailureKind.ConstraintViolated,
                (MySqlErrorCode)3819 /* ER_CHECK_CONSTRAINT_VIOLATED (MySQL) */ => FailureKind.ConstraintViolated,
                MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired or MySqlErrorCode.ConnectionCountError
                    or MySqlErrorCode.TooManyUserConnections or MySqlErrorCode.ServerShutdown or MySqlErrorCode.NormalShutdown
                    or MySqlErrorCode.AbortingConnection or MySqlErrorCode.NewAbortingConnection or MySqlErrorCode.QueryInterrupted
                    or MySqlErrorCode.NetReadInterrupted or MySqlErrorCode.NetWriteInterrupted or MySqlErrorCode.QueryTimeout
                    or MySqlErrorCode.ClientInteractionTimeout
                    or (MySqlErrorCode)1927 /* ER_CONNECTION_KILLED (MariaDB) */
                    // A Galera node that is not part of the primary component, or still joining: "WSREP has not yet
                    // prepared node for application use".
                    or (MySqlErrorCode)1047 /* ER_UNKNOWN_COM_ERROR */ => FailureKind.Unavailable,
                _ when my.IsTransient => FailureKind.Unavailable,
                _ => FailureKind.Other,
            };
        // A command or commit on a connection that an earlier failure broke: the driver's "Connection must be Open;
        // current state is Broken".
        if (e is InvalidOperationException && e.TargetSite?.DeclaringType == typeof(MySqlConnection) && e.Message.Contains("Broken", StringComparison.Ordinal))
            return FailureKind.Unavailable;
#else
        if (e is PostgresException pg)
            return pg.SqlState switch
            {
                PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected => FailureKind.Retryable,
                PostgresErrorCodes.LockNotAvailable => FailureKind.Retryable,
                PostgresErrorCodes.UniqueViolation => FailureKind.Retryable,
                PostgresErrorCodes.CheckViolation => FailureKind.ConstraintViolated,
                // 08: connection exception; 57P01-57P03: terminated by an administrator, a crash or while
                // starting; 53300: too many connections; 57014: the command timed out and was cancelled.
                var state when state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57P0", StringComparison.Ordinal)
                               || state is "53300" or "57014" => FailureKind.Unavailable,
                _ => FailureKind.Other,
            };
        // Npgsql's own, not the server's: a connect or read that failed or timed out, or the pool exhausted.
        if (e is NpgsqlException and not NpgsqlOperationInProgressException) return FailureKind.Unavailable;
#endif
        return e is TimeoutException or System.IO.IOException or System.Net.Sockets.SocketException ? FailureKind.Unavailable : FailureKind.Other;
    }

    /// <summary>
    /// The connection string with its bounds on waiting: <paramref name="connect"/> for opening a connection (a pooled
    /// one included, so an exhausted pool fails in that time too) and <paramref name="command"/> per command, after
    /// which the driver cancels it and, if the server does not answer that either, drops the connection. On PostgreSQL
    /// also <paramref name="lockTimeout"/>, the longest one statement waits for a lock (<see cref="SetLockTimeoutAsync"/>),
    /// and prepared statements.
    /// </summary>
    public static string WithDriverSettings(string connectionString, TimeSpan connect, TimeSpan command, TimeSpan lockTimeout)
    {
#if MYSQL
        return new MySqlConnectionStringBuilder(connectionString)
        {
            ConnectionTimeout = (uint)Math.Max(1, Math.Ceiling(connect.TotalSeconds)),
            DefaultCommandTimeout = (uint)Math.Max(1, Math.Ceiling(command.TotalSeconds)),
        }.ConnectionString;
#else
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Timeout = (int)Math.Max(1, Math.Ceiling(connect.TotalSeconds)),
            CommandTimeout = (int)Math.Max(1, Math.Ceiling(command.TotalSeconds)),
        };
        // The lock timeout as a startup parameter: the session's default, which DISCARD ALL restores when the pool
        // hands the connection out again, so no transaction spends a round trip setting it (SetLockTimeoutAsync).
        builder.Options = $"{builder.Options} -c lock_timeout={LockTimeoutMilliseconds(lockTimeout)}".Trim();
        // Every write sends the same few statements: prepared once per connection (after a few uses, and kept while the
        // connection is pooled), the server stops parsing and planning them, CPU it shares with the application here.
        // A connection string that sets Max Auto Prepare, 0 included, keeps its own.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare")) builder.MaxAutoPrepare = 64;
        return builder.ConnectionString;
#endif
    }
}
