namespace Monolith.Portfolio.Domain;

/// <summary>
/// One token in one portfolio: the row every write to the token's transactions and snapshots claims first, so
/// the strategy serializes them (a lock, a version check, or the gap lock over its transactions). It carries the
/// latest holding, which equals the last snapshot.
/// </summary>
[AppendOnlyRange(typeof(TokenTransaction), nameof(TokenTransaction.PositionId))]
internal sealed class Position : IVersioned
{
    public Guid Id { get; private set; }
    public Guid PortfolioId { get; private set; }
    public string Symbol { get; private set; } = "";
    public decimal Amount { get; private set; }
    public decimal MeanPrice { get; private set; }
    public decimal LocalMeanPrice { get; private set; }
    public long Version { get; private set; }

    public static Position Open(Guid portfolioId, string symbol) => new() { Id = IdFor(portfolioId, symbol), PortfolioId = portfolioId, Symbol = symbol };

    /// <summary>
    /// A position's id follows from its portfolio and symbol (a UUIDv8 over their SHA-256), so a unit can claim the
    /// position before reading anything else: under InnoDB's REPEATABLE READ a plain read first would fix the
    /// unit's snapshot before the strategy's locks are granted.
    /// </summary>
    public static Guid IdFor(Guid portfolioId, string symbol)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{portfolioId:N}/{symbol}"), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>
    /// Records <paramref name="transaction"/> after the holding <paramref name="before"/> it and rewrites every
    /// snapshot after it, in order. Refuses, before changing anything, a transaction that would leave any snapshot
    /// with a negative amount, or with more than a holding can store.
    /// </summary>
    public Snapshot Record(TokenTransaction transaction, Holding before, IReadOnlyList<Snapshot> later)
    {
        var holding = Refuse(before.After(transaction), transaction);
        var rewritten = new List<Holding>(later.Count);
        var running = holding;
        foreach (var next in later)
        {
            running = Refuse(running.After(next.Transaction), next.Transaction, transaction);
            rewritten.Add(running);
        }

        for (var i = 0; i < later.Count; i++) later[i].Set(rewritten[i]);
        (Amount, MeanPrice, LocalMeanPrice) = later.Count > 0 ? rewritten[^1] : holding;
        return Snapshot.Of(transaction, holding);
    }

    Holding Refuse(Holding holding, TokenTransaction at, TokenTransaction? cause = null)
    {
        if (holding.Amount > Money.MaxStored)
            throw new BusinessRuleException("Holding limit",
                $"Buying {(cause ?? at).Quantity} {Symbol} would hold {holding.Amount} at {at.ExecutedAt:O}, more than {Money.MaxStored}, the most a holding can be.");
        if (holding.Amount >= 0m) return holding;
        var detail = cause is null
            ? $"Selling {at.Quantity} {Symbol} at {at.ExecutedAt:O} would leave {holding.Amount}."
            : $"Selling {cause.Quantity} {Symbol} at {cause.ExecutedAt:O} would leave {holding.Amount} after the later transaction {at.Id} at {at.ExecutedAt:O}.";
        throw new BusinessRuleException("Oversell", detail);
    }
}
