using System.Data.Common;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Cluster;

/// <summary>
/// What the cluster profile's one-statement-per-round-trip rule defends against (DatabaseProvider's
/// GaleraUpdateSqlGenerator): a replicated write aborts a local transaction that holds a lock it needs, the server
/// rolls that transaction back at once, reports it at the client's next round trip, and whatever the client sends
/// after that runs in autocommit. A statement that followed another in one round trip ran after the rollback too.
/// </summary>
public sealed class BruteForceAbortTests(ClusterDatabase cluster) : IClassFixture<ClusterDatabase>
{
    [Fact]
    public async Task After_a_brute_force_abort_the_next_round_trip_fails_and_later_statements_commit_on_their_own()
    {
        await using var setup = await OpenAsync(1);
        await ExecuteAsync(setup, "CREATE TABLE probe (id INT PRIMARY KEY, v INT NOT NULL); INSERT INTO probe VALUES (1, 0), (2, 0)");
        // Node 2 must have applied the table and its rows before it writes one (a CI run's write there found no table).
        await using (var second = await OpenAsync(2))
            await UntilAsync(async () =>
            {
                try { return await ScalarAsync(second, "SELECT COUNT(*) FROM probe") == 2; }
                catch (DbException) { return false; }
            });

        await using var victim = await OpenAsync(1);
        await using var transaction = await victim.BeginTransactionAsync();
        await ExecuteAsync(victim, "SELECT v FROM probe WHERE id = 1 FOR UPDATE", transaction);

        // Another node writes the row the victim holds: its writeset, applied on node 1, aborts the victim.
        await using (var other = await OpenAsync(2)) await ExecuteAsync(other, "UPDATE probe SET v = v + 1 WHERE id = 1");
        await UntilAsync(async () => await ScalarAsync(setup, "SELECT v FROM probe WHERE id = 1") == 1);

        var reported = await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync(victim, "UPDATE probe SET v = v + 10 WHERE id = 2", transaction));
        Assert.Equal("1213", DatabaseProvider.ErrorCode(reported));
        // The driver still believes in the transaction; the server no longer has one.
        await ExecuteAsync(victim, "UPDATE probe SET v = v + 100 WHERE id = 2", transaction);
        try { await transaction.RollbackAsync(); } catch (DbException) { }

        Assert.Equal(100, await ScalarAsync(setup, "SELECT v FROM probe WHERE id = 2"));
    }

    async Task<DbConnection> OpenAsync(int node)
    {
        var connection = DatabaseProvider.Connect(cluster.ConnectionString(node));
        await connection.OpenAsync();
        return connection;
    }

    static async Task ExecuteAsync(DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync();
    }

    static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>
    /// Waits for <paramref name="condition"/>; a bound for a hung test, not a measurement. Another node applies a
    /// write in milliseconds when the cluster is quiet, and seconds later when the other classes keep its appliers busy.
    /// </summary>
    static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not hold within a minute.");
            await Task.Delay(50);
        }
    }
}
