namespace Monolith.Portfolio.Domain;

/// <summary>
/// The holding right after one transaction. Snapshots make "the holding at an instant" one index seek; they are
/// derived data, rewritten when a backdated transaction lands before them, always under the position's protection.
/// </summary>
internal sealed class Snapshot
{
    public long TransactionId { get; private set; }
    public TokenTransaction Transaction { get; private set; } = null!;
    public Guid PositionId { get; private set; }
    public DateTimeOffset ExecutedAt { get; private set; }
    public decimal Amount { get; private set; }
    public decimal MeanPrice { get; private set; }
    public decimal LocalMeanPrice { get; private set; }

    public Holding Holding => new(Amount, MeanPrice, LocalMeanPrice);

    public static Snapshot Of(TokenTransaction transaction, Holding holding)
    {
        var snapshot = new Snapshot { Transaction = transaction, PositionId = transaction.PositionId, ExecutedAt = transaction.ExecutedAt };
        snapshot.Set(holding);
        return snapshot;
    }

    public void Set(Holding holding) => (Amount, MeanPrice, LocalMeanPrice) = (holding.Amount, holding.MeanPrice, holding.LocalMeanPrice);
}
