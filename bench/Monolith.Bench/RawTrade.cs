using System.Data;
using System.Data.Common;
using Monolith.Lab;
using Monolith.Shared;
using Monolith.Shared.Persistence;

namespace Monolith.Bench;

/// <summary>
/// The Portfolio's ceiling: the race's RecordTransaction written directly on the driver with prepared commands, no EF,
/// no MediatR. Lock the position; read the holding at the trade's instant and the snapshots after it; refuse an
/// oversell at any of them; insert the transaction and its snapshot, rewrite the later snapshots, update the position;
/// commit. The holdings are computed here, apart from the domain's code, so the invariants check one against the other.
/// </summary>
internal sealed class RawTrade : IAsyncDisposable
{
    readonly DbConnection _connection;
    readonly DbCommand _lock, _before, _later, _transaction, _snapshot, _rewrite, _position;

    RawTrade(DbConnection connection)
    {
        _connection = connection;
        var (positions, snapshots, transactions) = (PortfolioTradeRace.Table("positions"), PortfolioTradeRace.Table("snapshots"), PortfolioTradeRace.Table("transactions"));
        _lock = Command($"SELECT id FROM {positions} WHERE id = @position {DatabaseProvider.RowLockClause}", ("position", Guid.Empty));
        _before = Command($"SELECT amount, mean_price, local_mean_price FROM {snapshots} WHERE position_id = @position AND executed_at <= @at " +
                          "ORDER BY executed_at DESC, transaction_id DESC LIMIT 1", ("position", Guid.Empty), ("at", DateTimeOffset.UnixEpoch));
        _later = Command($"SELECT s.transaction_id, t.side, t.quantity, t.unit_price, t.local_unit_price FROM {snapshots} s " +
                         $"JOIN {transactions} t ON t.id = s.transaction_id WHERE s.position_id = @position AND s.executed_at > @at " +
                         "ORDER BY s.executed_at, s.transaction_id", ("position", Guid.Empty), ("at", DateTimeOffset.UnixEpoch));
        _transaction = Command($"INSERT INTO {transactions} (operation_id, position_id, side, quantity, unit_price, local_unit_price, executed_at) " +
                               "VALUES (@op, @position, @side, @quantity, @price, @local, @at) RETURNING id",
            ("op", Guid.Empty), ("position", Guid.Empty), ("side", ""), ("quantity", 0m), ("price", 0m), ("local", 0m), ("at", DateTimeOffset.UnixEpoch));
        _snapshot = Command($"INSERT INTO {snapshots} (transaction_id, position_id, executed_at, amount, mean_price, local_mean_price) " +
                            "VALUES (@id, @position, @at, @amount, @mean, @local)",
            ("id", 0L), ("position", Guid.Empty), ("at", DateTimeOffset.UnixEpoch), ("amount", 0m), ("mean", 0m), ("local", 0m));
        _rewrite = Command($"UPDATE {snapshots} SET amount = @amount, mean_price = @mean, local_mean_price = @local WHERE transaction_id = @id",
            ("amount", 0m), ("mean", 0m), ("local", 0m), ("id", 0L));
        _position = Command($"UPDATE {positions} SET amount = @amount, mean_price = @mean, local_mean_price = @local, version = version + 1 WHERE id = @position",
            ("amount", 0m), ("mean", 0m), ("local", 0m), ("position", Guid.Empty));
    }

    DbCommand[] All => [_lock, _before, _later, _transaction, _snapshot, _rewrite, _position];

    public int Retries { get; private set; }

    public static async Task<RawTrade> OpenAsync(string connectionString)
    {
        var connection = DatabaseProvider.Connect(connectionString);
        await connection.OpenAsync();
        var raw = new RawTrade(connection);
        foreach (var command in raw.All) await command.PrepareAsync();
        return raw;
    }

    /// <summary>Records <paramref name="trade"/>: committed, or refused as an oversell (rolled back, nothing written).</summary>
    public async Task<RaceOutcome> RecordAsync(PortfolioTradeRace.Trade trade)
    {
        while (true)
        {
            await using var tx = await _connection.BeginTransactionAsync(IsolationLevel.ReadCommitted);
            try
            {
                foreach (var command in All) command.Transaction = tx;
                var outcome = await RecordInAsync(trade);
                if (outcome == RaceOutcome.Committed) await tx.CommitAsync(); else await tx.RollbackAsync();
                return outcome;
            }
            catch (DbException e) when (DatabaseProvider.Classify(e) == FailureKind.Retryable)
            {
                await tx.RollbackAsync();
                Retries++;
            }
        }
    }

    async Task<RaceOutcome> RecordInAsync(PortfolioTradeRace.Trade trade)
    {
        var (position, order, at) = (trade.PositionId, trade.Order, trade.ExecutedAt);
        RawTransfer.Set(_lock, position);
        if (await _lock.ExecuteScalarAsync() is null) throw new InvalidOperationException($"position {position} is missing; the race opens every one");

        RawTransfer.Set(_before, position, at);
        var holding = (Amount: 0m, Mean: 0m, Local: 0m);
        await using (var reader = await _before.ExecuteReaderAsync())
            if (await reader.ReadAsync()) holding = (reader.GetDecimal(0), reader.GetDecimal(1), reader.GetDecimal(2));
        RawTransfer.Set(_later, position, at);
        var later = new List<(long Id, string Side, decimal Quantity, decimal Price, decimal Local)>();
        await using (var reader = await _later.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                later.Add((reader.GetInt64(0), reader.GetString(1), reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4)));

        var side = order.Side.ToString();
        var written = After(holding, side, order.Quantity, order.UnitPrice, order.LocalUnitPrice);
        var rewritten = new List<(decimal Amount, decimal Mean, decimal Local)>(later.Count);
        var (running, refused) = (written, written.Amount < 0m);
        foreach (var next in later)
        {
            if (refused) break;
            running = After(running, next.Side, next.Quantity, next.Price, next.Local);
            rewritten.Add(running);
            refused = running.Amount < 0m;
        }
        if (refused) return RaceOutcome.Refused;

        RawTransfer.Set(_transaction, Guid.CreateVersion7(), position, side, order.Quantity, order.UnitPrice, order.LocalUnitPrice, at);
        var id = Convert.ToInt64(await _transaction.ExecuteScalarAsync());
        RawTransfer.Set(_snapshot, id, position, at, written.Amount, written.Mean, written.Local);
        await _snapshot.ExecuteNonQueryAsync();
        for (var i = 0; i < later.Count; i++)
        {
            RawTransfer.Set(_rewrite, rewritten[i].Amount, rewritten[i].Mean, rewritten[i].Local, later[i].Id);
            await _rewrite.ExecuteNonQueryAsync();
        }
        var last = later.Count > 0 ? rewritten[^1] : written;
        RawTransfer.Set(_position, last.Amount, last.Mean, last.Local, position);
        await _position.ExecuteNonQueryAsync();
        return RaceOutcome.Committed;
    }

    /// <summary>A buy moves both means to the quantity-weighted mean; a sell keeps them; nothing held resets them.</summary>
    static (decimal Amount, decimal Mean, decimal Local) After((decimal Amount, decimal Mean, decimal Local) holding, string side, decimal quantity, decimal price, decimal local)
    {
        if (side == "Sell")
        {
            var left = holding.Amount - quantity;
            return left == 0m ? (0m, 0m, 0m) : holding with { Amount = left };
        }
        return (holding.Amount + quantity, Money.WeightedMean(holding.Amount, holding.Mean, quantity, price), Money.WeightedMean(holding.Amount, holding.Local, quantity, local));
    }

    DbCommand Command(string sql, params (string Name, object Placeholder)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, placeholder) in parameters) LedgerScratch.Add(command, name, placeholder);
        return command;
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
