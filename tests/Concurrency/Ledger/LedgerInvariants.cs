using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Ledger.Domain;
using Monolith.Ledger.Persistence;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>The money invariants, each violation described in words; an empty list means the ledger is sound.</summary>
internal static class LedgerInvariants
{
    /// <summary>
    /// What must hold in any consistent snapshot, even while writers run: no balance below its limit; every balance
    /// equals the sum of its entries and its last entry's balance-after; the sum of balances equals money in minus
    /// money out (transfers net to zero only when both legs are there).
    /// </summary>
    public static async Task<List<string>> CheckSnapshotAsync(LedgerDbContext db, IReadOnlyCollection<Guid> accountIds, CancellationToken ct = default)
    {
        await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var violations = new List<string>();
        var accounts = await db.Accounts.AsNoTracking().Where(a => accountIds.Contains(a.Id)).Select(a => new { a.Id, a.Balance, a.OverdraftLimit }).ToListAsync(ct);
        var sums = await db.Entries.AsNoTracking().Where(e => accountIds.Contains(e.AccountId)).GroupBy(e => e.AccountId)
            .Select(g => new { AccountId = g.Key, Sum = g.Sum(e => e.Amount), LastId = g.Max(e => e.Id) })
            .ToDictionaryAsync(x => x.AccountId, ct);
        var lastIds = sums.Values.Select(s => s.LastId).ToList();
        var lastBalances = await db.Entries.AsNoTracking().Where(e => lastIds.Contains(e.Id))
            .ToDictionaryAsync(e => e.AccountId, e => e.BalanceAfter, ct);
        var external = await db.Entries.AsNoTracking().Where(e => accountIds.Contains(e.AccountId) && e.Operation != OperationKind.Transfer).SumAsync(e => (decimal?)e.Amount, ct) ?? 0m;
        await tx.CommitAsync(ct);

        foreach (var a in accounts)
        {
            if (a.Balance < -a.OverdraftLimit) violations.Add($"account {a.Id}: balance {a.Balance} is below its limit -{a.OverdraftLimit}");
            var sum = sums.TryGetValue(a.Id, out var s) ? s.Sum : 0m;
            if (a.Balance != sum) violations.Add($"account {a.Id}: balance {a.Balance} but its entries sum to {sum}");
            var last = lastBalances.TryGetValue(a.Id, out var l) ? l : 0m;
            if (a.Balance != last) violations.Add($"account {a.Id}: balance {a.Balance} but its last entry says {last}");
        }
        var total = accounts.Sum(a => a.Balance);
        if (total != external) violations.Add($"balances sum to {total} but money in minus money out is {external}");
        return violations;
    }

    public static async Task<List<string>> CheckAccountsAsync(LedgerDbContext db, IReadOnlyCollection<Guid> accountIds, CancellationToken ct = default)
    {
        var violations = await CheckSnapshotAsync(db, accountIds, ct);
        violations.AddRange(await CheckChainsAsync(db, accountIds, ct));
        return violations;
    }

    /// <summary>Every entry's balance-after is the previous one's plus its amount: a lost update breaks the chain.</summary>
    public static async Task<List<string>> CheckChainsAsync(LedgerDbContext db, IReadOnlyCollection<Guid> accountIds, CancellationToken ct = default)
    {
        var entries = await db.Entries.AsNoTracking().Where(e => accountIds.Contains(e.AccountId)).OrderBy(e => e.AccountId).ThenBy(e => e.Id)
            .Select(e => new { e.AccountId, e.Id, e.Amount, e.BalanceAfter }).ToListAsync(ct);
        var violations = new List<string>();
        foreach (var account in entries.GroupBy(e => e.AccountId))
        {
            var running = 0m;
            foreach (var e in account)
            {
                running += e.Amount;
                if (e.BalanceAfter != running)
                {
                    violations.Add($"account {account.Key}: entry {e.Id} says {e.BalanceAfter} after {e.Amount}, the entries before it make {running}");
                    running = e.BalanceAfter;
                }
            }
        }
        return violations;
    }

    /// <summary>
    /// Every acknowledged operation committed exactly once with the right number of legs, and nothing else did: a
    /// refused command left no trace.
    /// </summary>
    public static async Task<List<string>> CheckOperationsAsync(LedgerDbContext db, IReadOnlyCollection<Guid> accountIds,
        IReadOnlyDictionary<Guid, int> acknowledgedLegs, CancellationToken ct = default)
    {
        var stored = await db.Entries.AsNoTracking().Where(e => accountIds.Contains(e.AccountId)).GroupBy(e => e.OperationId)
            .Select(g => new { g.Key, Legs = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Legs, ct);
        var violations = new List<string>();
        foreach (var (operation, legs) in acknowledgedLegs)
            if (!stored.TryGetValue(operation, out var found)) violations.Add($"acknowledged operation {operation} is missing");
            else if (found != legs) violations.Add($"operation {operation} has {found} entries, expected {legs}");
        foreach (var operation in stored.Keys.Where(o => !acknowledgedLegs.ContainsKey(o)))
            violations.Add($"operation {operation} committed but was never acknowledged");
        return violations;
    }
}
