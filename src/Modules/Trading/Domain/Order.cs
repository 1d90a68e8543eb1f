namespace Monolith.Trading.Domain;

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<OrderSide>))]
public enum OrderSide { Buy = 1, Sell = 2 }

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<OrderStatus>))]
public enum OrderStatus { Pending = 1, Filled = 2, Cancelled = 3, Rejected = 4, Expired = 5 }

/// <summary>
/// The write-ahead log of trading: an order is recorded Pending before anything else changes; filling it creates
/// the trade and moves the account in one unit of work; cancelling, rejecting or expiring it only changes the order.
/// Pending is the only state an order leaves.
/// </summary>
[AppendOnlyRange(typeof(AuditEntry), nameof(AuditEntry.EntityId))]
internal sealed class Order : IAudited<Order.Snapshot>
{
    public Guid Id { get; private set; }
    public Guid AccountId { get; private set; }
    public string Symbol { get; private set; } = "";
    public OrderSide Side { get; private set; }
    public decimal Shares { get; private set; }
    public decimal LimitPrice { get; private set; }
    public string StrategyName { get; private set; } = "";
    public OrderStatus Status { get; private set; }
    public decimal? FillPrice { get; private set; }
    public string? Reason { get; private set; }
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; private set; }
    public long Version { get; private set; }
    public long FenceToken { get; private set; }

    public sealed record Snapshot(OrderStatus Status, decimal? FillPrice, string? Reason);

    public Snapshot State() => new(Status, FillPrice, Reason);

    public static Order Place(Guid accountId, string symbol, OrderSide side, decimal shares, decimal limitPrice, string strategyName) => new()
    {
        Id = Guid.CreateVersion7(), AccountId = accountId, Symbol = symbol, Side = side, Shares = shares, LimitPrice = limitPrice,
        StrategyName = strategyName, Status = OrderStatus.Pending,
    };

    /// <summary>What the position costs at <paramref name="price"/>: shares × price, rounded half to even to 8 places.</summary>
    public decimal CostAt(decimal price) => Money.Round(Shares * price);

    public void EnsurePending()
    {
        if (Status != OrderStatus.Pending)
            throw new BusinessRuleException("Order not pending", $"Order {Id} is {Status}; only a pending order can change.");
    }

    /// <summary>A limit order fills at its limit or better: a buy at or below it, a sell at or above it.</summary>
    public void EnsureWithinLimit(decimal price)
    {
        if (Side == OrderSide.Buy ? price > LimitPrice : price < LimitPrice)
            throw new BusinessRuleException("Price outside limit", $"Order {Id} is a {Side} limited at {LimitPrice}; it cannot fill at {price}.");
    }

    public void Fill(decimal price)
    {
        EnsurePending();
        EnsureWithinLimit(price);
        (Status, FillPrice) = (OrderStatus.Filled, price);
    }

    public void End(OrderStatus outcome, string reason)
    {
        EnsurePending();
        if (outcome is not (OrderStatus.Cancelled or OrderStatus.Rejected or OrderStatus.Expired))
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "An order ends cancelled, rejected or expired.");
        (Status, Reason) = (outcome, reason);
    }
}
