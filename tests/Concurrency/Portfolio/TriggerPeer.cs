using System.Data.Common;
using Monolith.Lab;
using Monolith.Portfolio.Domain;

namespace Monolith.Tests.Concurrency.Portfolio;

/// <summary>
/// The design Monolith's Portfolio replaces, written faithfully: transactions go into a table, and an AFTER INSERT
/// trigger reads the latest snapshot of the token and inserts the next one. Nothing locks or checks anything, so at
/// the database's default isolation two concurrent inserts both read the same latest snapshot, and one update is
/// lost. It cannot take a backdated transaction either: it never rewrites later snapshots. (PostgreSQL, as the
/// design is usually shown; and its MariaDB twin, for the other build.)
/// </summary>
internal static class TriggerPeer
{
    public const string Transactions = "trigger_peer_transactions";
    public const string Snapshots = "trigger_peer_snapshots";

#if MYSQL
    public static readonly string[] Schema =
    [
        $"""
        CREATE TABLE {Transactions} (
            id BIGINT AUTO_INCREMENT PRIMARY KEY, portfolio_id VARCHAR(36) NOT NULL, symbol VARCHAR(16) NOT NULL, side VARCHAR(4) NOT NULL,
            quantity DECIMAL(28,8) NOT NULL, unit_price DECIMAL(28,8) NOT NULL, local_unit_price DECIMAL(28,8) NOT NULL,
            executed_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), idempotency_key VARCHAR(100) NULL UNIQUE)
        """,
        $"""
        CREATE TABLE {Snapshots} (
            transaction_id BIGINT PRIMARY KEY, portfolio_id VARCHAR(36) NOT NULL, symbol VARCHAR(16) NOT NULL, executed_at DATETIME(6) NOT NULL,
            amount DECIMAL(28,8) NOT NULL, mean_price DECIMAL(28,8) NOT NULL, local_mean_price DECIMAL(28,8) NOT NULL,
            INDEX ix_trigger_peer_latest (portfolio_id, symbol, executed_at, transaction_id))
        """,
        $"""
        CREATE TRIGGER trigger_peer_after_insert AFTER INSERT ON {Transactions} FOR EACH ROW
        BEGIN
            DECLARE amount, mean, local_mean DECIMAL(28,8) DEFAULT 0;
            SELECT s.amount, s.mean_price, s.local_mean_price INTO amount, mean, local_mean FROM {Snapshots} s
            WHERE s.portfolio_id = NEW.portfolio_id AND s.symbol = NEW.symbol
            ORDER BY s.executed_at DESC, s.transaction_id DESC LIMIT 1;
            IF NEW.side = 'Buy' THEN
                SET mean = ROUND((amount * mean + NEW.quantity * NEW.unit_price) / (amount + NEW.quantity), 8);
                SET local_mean = ROUND((amount * local_mean + NEW.quantity * NEW.local_unit_price) / (amount + NEW.quantity), 8);
                SET amount = amount + NEW.quantity;
            ELSE
                SET amount = amount - NEW.quantity;
                IF amount = 0 THEN SET mean = 0, local_mean = 0; END IF;
            END IF;
            INSERT INTO {Snapshots} VALUES (NEW.id, NEW.portfolio_id, NEW.symbol, NEW.executed_at, amount, mean, local_mean);
        END
        """,
    ];
#else
    public static readonly string[] Schema =
    [
        $"""
        CREATE TABLE {Transactions} (
            id bigserial PRIMARY KEY, portfolio_id varchar(36) NOT NULL, symbol varchar(16) NOT NULL, side varchar(4) NOT NULL,
            quantity numeric(28,8) NOT NULL, unit_price numeric(28,8) NOT NULL, local_unit_price numeric(28,8) NOT NULL,
            executed_at timestamptz NOT NULL DEFAULT clock_timestamp(), idempotency_key varchar(100) NULL UNIQUE)
        """,
        $"""
        CREATE TABLE {Snapshots} (
            transaction_id bigint PRIMARY KEY, portfolio_id varchar(36) NOT NULL, symbol varchar(16) NOT NULL, executed_at timestamptz NOT NULL,
            amount numeric(28,8) NOT NULL, mean_price numeric(28,8) NOT NULL, local_mean_price numeric(28,8) NOT NULL)
        """,
        $"CREATE INDEX ix_trigger_peer_latest ON {Snapshots} (portfolio_id, symbol, executed_at, transaction_id)",
        $"""
        CREATE FUNCTION trigger_peer_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            amount numeric(28,8) := 0; mean numeric(28,8) := 0; local_mean numeric(28,8) := 0;
        BEGIN
            SELECT s.amount, s.mean_price, s.local_mean_price INTO amount, mean, local_mean FROM {Snapshots} s
            WHERE s.portfolio_id = NEW.portfolio_id AND s.symbol = NEW.symbol
            ORDER BY s.executed_at DESC, s.transaction_id DESC LIMIT 1;
            amount := coalesce(amount, 0); mean := coalesce(mean, 0); local_mean := coalesce(local_mean, 0);
            IF NEW.side = 'Buy' THEN
                mean := round((amount * mean + NEW.quantity * NEW.unit_price) / (amount + NEW.quantity), 8);
                local_mean := round((amount * local_mean + NEW.quantity * NEW.local_unit_price) / (amount + NEW.quantity), 8);
                amount := amount + NEW.quantity;
            ELSE
                amount := amount - NEW.quantity;
                IF amount = 0 THEN mean := 0; local_mean := 0; END IF;
            END IF;
            INSERT INTO {Snapshots} VALUES (NEW.id, NEW.portfolio_id, NEW.symbol, NEW.executed_at, amount, mean, local_mean);
            RETURN NULL;
        END $$
        """,
        $"CREATE TRIGGER trigger_peer_after_insert AFTER INSERT ON {Transactions} FOR EACH ROW EXECUTE FUNCTION trigger_peer_snapshot()",
    ];
#endif

    /// <summary>What an application on this design does per trade: insert the transaction with its idempotency key, in one transaction.</summary>
    public static async Task RecordAsync(DbConnection connection, string portfolio, string symbol, RandomTrade trade, string? idempotencyKey)
    {
        await using var tx = await connection.BeginTransactionAsync();
        await using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = $"INSERT INTO {Transactions} (portfolio_id, symbol, side, quantity, unit_price, local_unit_price, idempotency_key) " +
                             "VALUES (@portfolio, @symbol, @side, @quantity, @unit_price, @local_unit_price, @key)";
        Add(insert, "portfolio", portfolio);
        Add(insert, "symbol", symbol);
        Add(insert, "side", trade.Side.ToString());
        Add(insert, "quantity", trade.Quantity);
        Add(insert, "unit_price", trade.UnitPrice);
        Add(insert, "local_unit_price", trade.LocalUnitPrice);
        Add(insert, "key", (object?)idempotencyKey ?? DBNull.Value);
        await insert.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }

    /// <summary>The stored chain, in the design's own order: (executed at, id), each snapshot with its transaction's signed quantity.</summary>
    public static async Task<List<(long Id, decimal SignedQuantity, decimal Amount)>> ChainAsync(DbConnection connection, string portfolio, string symbol)
    {
        await using var query = connection.CreateCommand();
        query.CommandText = $"SELECT t.id, CASE WHEN t.side = 'Buy' THEN t.quantity ELSE -t.quantity END, s.amount " +
                            $"FROM {Transactions} t JOIN {Snapshots} s ON s.transaction_id = t.id " +
                            "WHERE t.portfolio_id = @portfolio AND t.symbol = @symbol ORDER BY t.executed_at, t.id";
        Add(query, "portfolio", portfolio);
        Add(query, "symbol", symbol);
        var chain = new List<(long, decimal, decimal)>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync()) chain.Add((reader.GetInt64(0), reader.GetDecimal(1), reader.GetDecimal(2)));
        return chain;
    }

    static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
