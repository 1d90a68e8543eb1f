namespace Monolith.Portfolio.Domain;

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<TradeSide>))]
public enum TradeSide { Buy = 1, Sell = 2 }

/// <summary>
/// A buy or sell of a token, as executed: append-only, never updated or deleted. Transactions of a position are
/// ordered by (ExecutedAt, Id); Id grows with every insert, so a transaction recorded later sorts after every
/// earlier-recorded one executed at the same instant. RecordedAt comes from the database clock.
/// </summary>
internal sealed class TokenTransaction
{
    public long Id { get; private set; }
    public Guid OperationId { get; private set; }
    public Guid PositionId { get; private set; }
    public TradeSide Side { get; private set; }
    public decimal Quantity { get; private set; }
    public decimal UnitPrice { get; private set; }
    public decimal LocalUnitPrice { get; private set; }
    public DateTimeOffset ExecutedAt { get; private set; }
    [DatabaseClock]
    public DateTimeOffset RecordedAt { get; private set; }

    public static TokenTransaction Record(Guid positionId, TradeSide side, decimal quantity, decimal unitPrice, decimal localUnitPrice, DateTimeOffset executedAt) =>
        new()
        {
            OperationId = Guid.CreateVersion7(), PositionId = positionId, Side = side, Quantity = quantity,
            UnitPrice = unitPrice, LocalUnitPrice = localUnitPrice, ExecutedAt = executedAt,
        };
}
