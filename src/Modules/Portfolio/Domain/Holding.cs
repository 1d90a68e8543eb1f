namespace Monolith.Portfolio.Domain;

/// <summary>
/// How much of a token is held and at what mean acquisition price, in the quote currency and in the owner's
/// local currency. A buy moves both means to the quantity-weighted mean (rounded half to even to eight places,
/// <see cref="Money.WeightedMean"/>); a sell lowers the amount and keeps the means; an amount of zero resets them.
/// </summary>
internal readonly record struct Holding(decimal Amount, decimal MeanPrice, decimal LocalMeanPrice)
{
    public static readonly Holding None = new(0m, 0m, 0m);

    /// <summary>The holding after <paramref name="transaction"/>; the amount may come out negative, which the caller refuses.</summary>
    public Holding After(TokenTransaction transaction)
    {
        if (transaction.Side == TradeSide.Sell)
        {
            var left = Amount - transaction.Quantity;
            return left == 0m ? None : this with { Amount = left };
        }
        return new Holding(
            Amount + transaction.Quantity,
            Money.WeightedMean(Amount, MeanPrice, transaction.Quantity, transaction.UnitPrice),
            Money.WeightedMean(Amount, LocalMeanPrice, transaction.Quantity, transaction.LocalUnitPrice));
    }
}
