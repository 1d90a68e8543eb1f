using System.Data;
using System.Data.Common;
using Monolith.Lab;
using Monolith.Shared.Persistence;

namespace Monolith.Bench;

/// <summary>
/// The batched ceiling: what the database commits when transfers come in batches, as SingleWriter batches them,
/// written directly on the driver. One writer, one connection; each transaction takes <see cref="BatchSize"/> random
/// transfers of the hot set, locks their distinct accounts in key order, decides every balance in memory, then writes
/// with one multi-row INSERT of the transfers, one of their entries, and one UPDATE per account. Statements are
/// prepared once per shape.
/// </summary>
internal sealed class BatchedRawTransfer : IAsyncDisposable
{
    readonly DbConnection _connection;
    readonly DbCommand _transfers, _entries, _update;
    readonly Dictionary<int, DbCommand> _locks = [];

    BatchedRawTransfer(DbConnection connection, int batchSize)
    {
        _connection = connection;
        BatchSize = batchSize;
        _transfers = Command($"INSERT INTO {LedgerScratch.Table("transfers")} (id, from_account_id, to_account_id, currency, amount) VALUES " +
                             string.Join(", ", Enumerable.Range(0, batchSize).Select(i => $"(@id{i}, @from{i}, @to{i}, 'EUR', @amount{i})")),
            Enumerable.Range(0, batchSize).SelectMany(i => new[] { $"id{i}", $"from{i}", $"to{i}", $"amount{i}" }));
        _entries = Command($"INSERT INTO {LedgerScratch.Table("entries")} (account_id, amount, balance_after, operation_id, operation) VALUES " +
                           string.Join(", ", Enumerable.Range(0, 2 * batchSize).Select(i => $"(@account{i}, @amount{i}, @after{i}, @op{i}, 'Transfer')")),
            Enumerable.Range(0, 2 * batchSize).SelectMany(i => new[] { $"account{i}", $"amount{i}", $"after{i}", $"op{i}" }));
        _update = Command($"UPDATE {LedgerScratch.Table("accounts")} SET balance = @balance, version = version + 1 WHERE id = @id", ["balance", "id"]);
    }

    public int BatchSize { get; }

    public static async Task<BatchedRawTransfer> OpenAsync(LedgerScratch database, int batchSize)
    {
        var connection = database.Connect();
        await connection.OpenAsync();
        var raw = new BatchedRawTransfer(connection, batchSize);
        foreach (var command in new[] { raw._transfers, raw._entries, raw._update }) await command.PrepareAsync();
        return raw;
    }

    /// <summary>One batch of transfers of <paramref name="amount"/>, each between the two accounts given, in one transaction.</summary>
    public async Task TransferAsync(IReadOnlyList<(Guid From, Guid To)> batch, decimal amount)
    {
        var accounts = batch.SelectMany(t => new[] { t.From, t.To }).Distinct().Order().ToList();
        var @lock = await LockCommandAsync(accounts.Count);
        await using var tx = await _connection.BeginTransactionAsync(IsolationLevel.ReadCommitted);
        foreach (var command in new[] { @lock, _transfers, _entries, _update }) command.Transaction = tx;
        for (var i = 0; i < accounts.Count; i++) @lock.Parameters[i].Value = accounts[i];
        var balances = new Dictionary<Guid, decimal>();
        await using (var reader = await @lock.ExecuteReaderAsync())
            while (await reader.ReadAsync()) balances[reader.GetGuid(0)] = reader.GetDecimal(1);

        for (var i = 0; i < batch.Count; i++)
        {
            var (from, to) = batch[i];
            if (balances[from] < amount) throw new InvalidOperationException($"account {from} holds {balances[from]}; the bench funds every account beyond its needs");
            balances[from] -= amount;
            balances[to] += amount;
            var operation = Guid.CreateVersion7();
            Set(_transfers, 4 * i, operation, from, to, amount);
            Set(_entries, 8 * i, from, -amount, balances[from], operation);
            Set(_entries, 8 * i + 4, to, amount, balances[to], operation);
        }
        await _transfers.ExecuteNonQueryAsync();
        await _entries.ExecuteNonQueryAsync();
        foreach (var account in accounts)
        {
            Set(_update, 0, balances[account], account);
            await _update.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    /// <summary>SELECT ... FOR UPDATE of <paramref name="count"/> accounts by key, in key order; prepared once per count.</summary>
    async Task<DbCommand> LockCommandAsync(int count)
    {
        if (_locks.TryGetValue(count, out var command)) return command;
        var names = Enumerable.Range(0, count).Select(i => $"a{i}").ToList();
        command = Command($"SELECT id, balance FROM {LedgerScratch.Table("accounts")} WHERE id IN ({string.Join(", ", names.Select(n => "@" + n))}) ORDER BY id {DatabaseProvider.RowLockClause}", names);
        await command.PrepareAsync();
        return _locks[count] = command;
    }

    DbCommand Command(string sql, IEnumerable<string> parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
            LedgerScratch.Add(command, name, name.StartsWith("amount") || name.StartsWith("after") || name == "balance" ? 0m : Guid.Empty);
        return command;
    }

    static void Set(DbCommand command, int first, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[first + i].Value = values[i];
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
