namespace Monolith.Trading.Domain;

/// <summary>What a trading strategy decided and why; append-only, linked to the order it produced if any.</summary>
internal sealed class Decision
{
    public long Id { get; private set; }
    public Guid AccountId { get; private set; }
    public string Symbol { get; private set; } = "";
    public string Action { get; private set; } = "";
    public string Reason { get; private set; } = "";
    public string StrategyName { get; private set; } = "";
    public Guid? OrderId { get; private set; }
    [DatabaseClock]
    public DateTimeOffset At { get; private set; }

    public static Decision Of(Guid accountId, string symbol, string action, string reason, string strategyName, Guid? orderId) => new()
    {
        AccountId = accountId, Symbol = symbol, Action = action, Reason = reason, StrategyName = strategyName, OrderId = orderId,
    };
}
