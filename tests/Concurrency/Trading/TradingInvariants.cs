using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Monolith.Trading.Domain;
using Monolith.Trading.Persistence;

namespace Monolith.Tests.Concurrency.Trading;

/// <summary>What must hold for a trading account once writers are done; each violation described in words.</summary>
internal static class TradingInvariants
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<List<string>> CheckAccountAsync(TradingDbContext db, Guid accountId, CancellationToken ct = default)
    {
        var violations = new List<string>();
        var account = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == accountId, ct);
        var trades = await db.Trades.AsNoTracking().Where(t => t.AccountId == accountId).ToListAsync(ct);
        var orders = await db.Orders.AsNoTracking().Where(o => o.AccountId == accountId).ToListAsync(ct);
        var audit = await db.Audit.AsNoTracking().Where(a => a.AccountId == accountId).OrderBy(a => a.Id).ToListAsync(ct);

        // Money: balance = initial + Σ closed P&L − Σ open trades' cost; cumulative P&L = Σ closed P&L.
        var closedPnl = trades.Where(t => !t.IsOpen).Sum(t => t.Pnl!.Value);
        var openCost = trades.Where(t => t.IsOpen).Sum(t => t.Cost);
        if (account.CurrentBalance != account.InitialBalance + closedPnl - openCost)
            violations.Add($"balance {account.CurrentBalance} but initial {account.InitialBalance} + closed P&L {closedPnl} - open cost {openCost} = {account.InitialBalance + closedPnl - openCost}");
        var openShares = trades.Where(t => t.IsOpen).Sum(t => t.Shares);
        if (account.OpenShares != openShares)
            violations.Add($"open shares {account.OpenShares} but the open trades hold {openShares}");
        if (account.CumulativePnl != closedPnl) violations.Add($"cumulative P&L {account.CumulativePnl} but the closed trades' P&L sums to {closedPnl}");

        // Orders and trades: one trade per filled order, none for any other.
        var filled = orders.Where(o => o.Status == OrderStatus.Filled).Select(o => o.Id).ToHashSet();
        var traded = trades.Select(t => t.OrderId).ToList();
        if (traded.Count != traded.Distinct().Count()) violations.Add("an order has two trades");
        if (!filled.SetEquals(traded)) violations.Add($"{filled.Count} filled orders but {traded.Count} trades, or they differ");

        // The audit log: per entity, a chain from its creation in which each change starts where the last ended,
        // ending at the entity as stored; one row per version; no trade closed twice.
        foreach (var entity in audit.GroupBy(a => (a.EntityType, a.EntityId)))
        {
            var rows = entity.ToList();
            if (rows[0].Before is not null) violations.Add($"{entity.Key.EntityType} {entity.Key.EntityId}: its first audit row is not its creation");
            if (rows.Select(r => r.EntityVersion).Distinct().Count() != rows.Count)
                violations.Add($"{entity.Key.EntityType} {entity.Key.EntityId}: two audit rows for one version (a lost update)");
            for (var i = 1; i < rows.Count; i++)
                if (!SameState(entity.Key.EntityType, rows[i].Before!, rows[i - 1].After))
                    violations.Add($"{entity.Key.EntityType} {entity.Key.EntityId}: audit row {rows[i].Id} starts from {rows[i].Before}, the change before it ended at {rows[i - 1].After}");
            var stored = entity.Key.EntityType switch
            {
                nameof(TradingAccount) => JsonSerializer.Serialize(account.State(), Json),
                nameof(Order) => orders.SingleOrDefault(o => o.Id == entity.Key.EntityId) is { } o ? JsonSerializer.Serialize(o.State(), Json) : null,
                _ => trades.SingleOrDefault(t => t.Id == entity.Key.EntityId) is { } t ? JsonSerializer.Serialize(t.State(), Json) : null,
            };
            if (stored is null || !SameState(entity.Key.EntityType, stored, rows[^1].After))
                violations.Add($"{entity.Key.EntityType} {entity.Key.EntityId}: stored as {stored}, its last audit row says {rows[^1].After}");
            if (entity.Key.EntityType == nameof(Trade) && rows.Count(r => r.Action == "Closed") > 1)
                violations.Add($"trade {entity.Key.EntityId} was closed twice");
        }
        var audited = audit.Select(a => a.EntityId).ToHashSet();
        violations.AddRange(orders.Where(o => !audited.Contains(o.Id)).Select(o => $"order {o.Id} has no audit row"));
        violations.AddRange(trades.Where(t => !audited.Contains(t.Id)).Select(t => $"trade {t.Id} has no audit row"));

        // Max drawdown recomputed from the account's audit history.
        var (peak, max) = (account.InitialBalance, 0m);
        foreach (var row in audit.Where(a => a.EntityType == nameof(TradingAccount)))
        {
            var after = row.AfterAs<TradingAccount.Snapshot>();
            (peak, max) = Drawdown.After(peak, max, account.InitialBalance + after.CumulativePnl);
            if (after.MaxDrawdownPct != max || after.PeakEquity != peak)
                violations.Add($"audit row {row.Id}: drawdown {after.MaxDrawdownPct}% from peak {after.PeakEquity}, recomputed {max}% from peak {peak}");
        }
        if (account.MaxDrawdownPct != max) violations.Add($"max drawdown {account.MaxDrawdownPct}% but the audit history gives {max}%");
        return violations;
    }

    static bool SameState(string entityType, string a, string b) => entityType switch
    {
        nameof(TradingAccount) => Equals(JsonSerializer.Deserialize<TradingAccount.Snapshot>(a, Json), JsonSerializer.Deserialize<TradingAccount.Snapshot>(b, Json)),
        nameof(Order) => Equals(JsonSerializer.Deserialize<Order.Snapshot>(a, Json), JsonSerializer.Deserialize<Order.Snapshot>(b, Json)),
        _ => Equals(JsonSerializer.Deserialize<Trade.Snapshot>(a, Json), JsonSerializer.Deserialize<Trade.Snapshot>(b, Json)),
    };
}
