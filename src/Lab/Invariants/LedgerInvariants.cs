using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Ledger.Domain;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Persistence;

namespace Monolith.Lab.Invariants;

/// <summary>One reader's view: what it broke, and whether the database served it torn (<see cref="LedgerInvariants.CheckSnapshotAsync"/>).</summary>
internal sealed record SnapshotCheck(List<string> Violations, bool Torn);

/// <summary>The money invariants, each violation described in words; an empty list means the ledger is sound.</summary>
internal static class LedgerInvariants
{
    /// <summary>
    /// What must hold in any snapshot, even while writers run: no balance below its limit; every balance equals its
    /// last entry's balance-after and the sum of its entries; the sum of balances equals money in minus money out
    /// (transfers net to zero only when both legs are there).
    /// </summary>
    /// <remarks>
    /// With <paramref name="whileWriting"/> on MariaDB, a view that misses a committed entry below an account's last one
    /// is <see cref="SnapshotCheck.Torn"/>, not a violation: InnoDB can show a transaction without the one it waited for
    /// and read through its lock (docs/reliability.md, "Torn read views"). The units' own atomicity is still checked in
    /// such a view, and the sums and chains once the writers stop.
    /// </remarks>
    public static async Task<SnapshotCheck> CheckSnapshotAsync(LedgerDbContext db, IReadOnlyCollection<Guid> accountIds, bool whileWriting, CancellationToken ct = default)
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

        var torn = false;
        foreach (var a in accounts)
        {
            if (a.Balance < -a.OverdraftLimit) violations.Add($"account {a.Id}: balance {a.Balance} is below its limit -{a.OverdraftLimit}");
            var last = lastBalances.TryGetValue(a.Id, out var l) ? l : 0m;
            if (a.Balance != last) violations.Add($"account {a.Id}: balance {a.Balance} but its last entry says {last}");
            var sum = sums.TryGetValue(a.Id, out var s) ? s.Sum : 0m;
            if (sum == last) continue;
            if (whileWriting && InnoDbViewsCanTear && await EntriesUpToAddUpAsync(db, a.Id, s!.LastId, last, ct)) torn = true;
            else violations.Add($"account {a.Id}: balance {a.Balance} but its entries sum to {sum}");
        }
        if (torn) return new SnapshotCheck(violations, Torn: true);
        var total = accounts.Sum(a => a.Balance);
        if (total != external) violations.Add($"balances sum to {total} but money in minus money out is {external}");
        return new SnapshotCheck(violations, Torn: false);
    }

    /// <summary>
    /// Read again, in a view of its own: whether the account's entries up to <paramref name="lastId"/> add up to its
    /// balance-after. Every one of them committed before that entry's unit took the account, so a later view sees them
    /// all: if they add up, the first view only missed some (torn); if not, the chain is broken (a lost update).
    /// </summary>
    static async Task<bool> EntriesUpToAddUpAsync(LedgerDbContext db, Guid accountId, long lastId, decimal balanceAfter, CancellationToken ct) =>
        await db.Entries.AsNoTracking().Where(e => e.AccountId == accountId && e.Id <= lastId).SumAsync(e => e.Amount, ct) == balanceAfter;

    const bool InnoDbViewsCanTear = DatabaseProvider.Current == DatabaseKind.MySql;

    public static async Task<List<string>> CheckAccountsAsync(LedgerDbContext db, IReadOnlyCollection<Guid> accountIds, CancellationToken ct = default)
    {
        var violations = (await CheckSnapshotAsync(db, accountIds, whileWriting: false, ct)).Violations;
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
    /// refused command left no trace. A transfer's legs come with its transfer row.
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
        var transfersWithoutRow = await db.Entries.AsNoTracking()
            .Where(e => accountIds.Contains(e.AccountId) && e.Operation == OperationKind.Transfer && !db.Transfers.Any(t => t.Id == e.OperationId))
            .Select(e => e.OperationId).Distinct().ToListAsync(ct);
        violations.AddRange(transfersWithoutRow.Select(t => $"transfer {t} has entries but no transfer row"));
        return violations;
    }
}
