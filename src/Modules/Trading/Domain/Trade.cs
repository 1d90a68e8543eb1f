namespace Monolith.Trading.Domain;

/// <summary>
/// A filled order's position. What was traded never changes; closing sets the exit price and the P&amp;L exactly
/// once: a buy earns (exit − entry) × shares, a short sell (entry − exit) × shares.
/// </summary>
[AppendOnlyRange(typeof(AuditEntry), nameof(AuditEntry.EntityId))]
internal sealed class Trade : IAudited<Trade.Snapshot>
{
    public Guid Id { get; private set; }
    public Guid AccountId { get; private set; }
    public Guid OrderId { get; private set; }
    public string Symbol { get; private set; } = "";
    public OrderSide Side { get; private set; }
    public decimal Shares { get; private set; }
    public decimal EntryPrice { get; private set; }
    public decimal Cost { get; private set; }
    public string StrategyName { get; private set; } = "";
    public DateTimeOffset OpenedAt { get; private set; }
    public decimal? ExitPrice { get; private set; }
    public decimal? Pnl { get; private set; }
    public DateTimeOffset? ClosedAt { get; private set; }
    public long Version { get; private set; }
    public long FenceToken { get; private set; }

    public bool IsOpen => ExitPrice is null;

    public sealed record Snapshot(decimal? ExitPrice, decimal? Pnl, DateTimeOffset? ClosedAt);

    public Snapshot State() => new(ExitPrice, Pnl, ClosedAt);

    public static Trade Open(Order order, decimal price, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(), AccountId = order.AccountId, OrderId = order.Id, Symbol = order.Symbol, Side = order.Side,
        Shares = order.Shares, EntryPrice = price, Cost = order.CostAt(price), StrategyName = order.StrategyName, OpenedAt = now,
    };

    /// <summary>Closes the trade and returns its P&amp;L; a second close is refused.</summary>
    public decimal Close(decimal exitPrice, DateTimeOffset now)
    {
        if (!IsOpen) throw new BusinessRuleException("Trade already closed", $"Trade {Id} was closed at {ExitPrice} on {ClosedAt:O}.");
        var move = Money.Round((exitPrice - EntryPrice) * Shares);
        (ExitPrice, Pnl, ClosedAt) = (exitPrice, Side == OrderSide.Buy ? move : -move, now);
        return Pnl.Value;
    }
}
