using Microsoft.EntityFrameworkCore;
using Monolith.Portfolio.Domain;
using Monolith.Portfolio.Persistence;

namespace Monolith.Lab.Invariants;

/// <summary>What must hold for a position once writers are done; each violation described in words.</summary>
internal static class PortfolioInvariants
{
    /// <summary>
    /// The stored snapshots equal, exactly, a sequential recomputation from the committed transactions in
    /// (executed at, id) order; no amount is negative; every transaction has one snapshot and every snapshot one
    /// transaction; the position holds what the last snapshot says.
    /// </summary>
    public static async Task<List<string>> CheckPositionAsync(PortfolioDbContext db, Guid positionId, CancellationToken ct = default)
    {
        var transactions = await db.Transactions.AsNoTracking().Where(t => t.PositionId == positionId)
            .OrderBy(t => t.ExecutedAt).ThenBy(t => t.Id).ToListAsync(ct);
        var snapshots = await db.Snapshots.AsNoTracking().Where(s => s.PositionId == positionId).ToDictionaryAsync(s => s.TransactionId, ct);
        var position = await db.Positions.AsNoTracking().SingleOrDefaultAsync(p => p.Id == positionId, ct);

        var violations = new List<string>();
        var running = Holding.None;
        foreach (var transaction in transactions)
        {
            if (running.Amount >= 0m) running = running.After(transaction);
            if (running.Amount < 0m && violations.Count == 0)
                violations.Add($"the committed transactions oversell: {running.Amount} after transaction {transaction.Id} at {transaction.ExecutedAt:O}");
            if (!snapshots.Remove(transaction.Id, out var stored))
            {
                violations.Add($"transaction {transaction.Id} has no snapshot");
                continue;
            }
            if (stored.Amount < 0m) violations.Add($"snapshot of transaction {transaction.Id} holds a negative amount {stored.Amount}");
            if (stored.ExecutedAt != transaction.ExecutedAt) violations.Add($"snapshot of transaction {transaction.Id} is dated {stored.ExecutedAt:O}, the transaction {transaction.ExecutedAt:O}");
            if (stored.Holding != running)
                violations.Add($"transaction {transaction.Id} at {transaction.ExecutedAt:O}: stored {stored.Holding}, sequential recomputation {running}");
        }
        violations.AddRange(snapshots.Keys.Select(id => $"snapshot {id} has no transaction of this position"));
        if (position is null)
        {
            if (transactions.Count > 0) violations.Add($"position {positionId} is missing but has {transactions.Count} transactions");
        }
        else if (new Holding(position.Amount, position.MeanPrice, position.LocalMeanPrice) != running)
            violations.Add($"position holds {position.Amount} at {position.MeanPrice} / {position.LocalMeanPrice}, the recomputation {running}");
        return violations;
    }
}
