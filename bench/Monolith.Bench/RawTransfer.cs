using System.Data;
using System.Data.Common;
using Monolith.Shared.Persistence;

using Monolith.Lab;

namespace Monolith.Bench;

/// <summary>
/// The ceiling: the same transfer as the Ledger's, written directly against the driver with prepared commands, no EF,
/// no MediatR: lock both rows in key order, insert the transfer, two updates, two entries, commit. A deadlock or lock
/// timeout (none expected: the rows are locked in key order) rolls back and runs again.
/// </summary>
internal sealed class RawTransfer : IAsyncDisposable
{
    readonly DbConnection _connection;
    readonly DbCommand _lock, _transfer, _update, _entries;

    RawTransfer(DbConnection connection)
    {
        _connection = connection;
        _lock = Command($"SELECT id, balance FROM {LedgerScratch.Table("accounts")} WHERE id IN (@a, @b) ORDER BY id {DatabaseProvider.RowLockClause}", "a", "b");
        _transfer = Command($"INSERT INTO {LedgerScratch.Table("transfers")} (id, from_account_id, to_account_id, currency, amount) VALUES (@id, @from, @to, 'EUR', @amount)",
            "id", "from", "to", "amount");
        _update = Command($"UPDATE {LedgerScratch.Table("accounts")} SET balance = @balance, version = version + 1 WHERE id = @id", "balance", "id");
        _entries = Command($"INSERT INTO {LedgerScratch.Table("entries")} (account_id, amount, balance_after, operation_id, operation) " +
                           "VALUES (@from, @debit, @from_after, @op, 'Transfer'), (@to, @amount, @to_after, @op, 'Transfer')",
            "from", "debit", "from_after", "op", "to", "amount", "to_after");
    }

    public int Retries { get; private set; }

    public static async Task<RawTransfer> OpenAsync(LedgerScratch database)
    {
        var connection = database.Connect();
        await connection.OpenAsync();
        var raw = new RawTransfer(connection);
        foreach (var command in new[] { raw._lock, raw._transfer, raw._update, raw._entries }) await command.PrepareAsync();
        return raw;
    }

    public async Task TransferAsync(Guid from, Guid to, decimal amount)
    {
        while (true)
        {
            await using var tx = await _connection.BeginTransactionAsync(IsolationLevel.ReadCommitted);
            try
            {
                foreach (var command in new[] { _lock, _transfer, _update, _entries }) command.Transaction = tx;
                Set(_lock, from, to);
                decimal fromBalance = 0, toBalance = 0;
                await using (var reader = await _lock.ExecuteReaderAsync())
                    while (await reader.ReadAsync())
                        if (reader.GetGuid(0) == from) fromBalance = reader.GetDecimal(1); else toBalance = reader.GetDecimal(1);
                if (fromBalance < amount) throw new InvalidOperationException($"account {from} holds {fromBalance}; the bench funds every account beyond its needs");

                Set(_transfer, Guid.CreateVersion7(), from, to, amount);
                await _transfer.ExecuteNonQueryAsync();
                Set(_update, fromBalance - amount, from);
                await _update.ExecuteNonQueryAsync();
                Set(_update, toBalance + amount, to);
                await _update.ExecuteNonQueryAsync();
                Set(_entries, from, -amount, fromBalance - amount, Guid.CreateVersion7(), to, amount, toBalance + amount);
                await _entries.ExecuteNonQueryAsync();
                await tx.CommitAsync();
                return;
            }
            catch (DbException e) when (DatabaseProvider.Classify(e) == FailureKind.Retryable)
            {
                await tx.RollbackAsync();
                Retries++;
            }
        }
    }

    DbCommand Command(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters) LedgerScratch.Add(command, name, name is "a" or "b" or "id" or "from" or "to" or "op" ? Guid.Empty : 0m);
        return command;
    }

    /// <summary>Sets a prepared command's parameters, in order.</summary>
    internal static void Set(DbCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
