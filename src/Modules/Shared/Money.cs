using System.Numerics;

namespace Monolith.Shared;

/// <summary>
/// Money is decimal, stored as NUMERIC(28, 8). Amounts with more than eight decimal places are rejected,
/// never rounded. Where a division happens, it rounds to eight places, half to even (banker's rounding).
/// </summary>
public static class Money
{
    public const int Precision = 28;
    public const int Scale = 8;

    /// <summary>The largest value NUMERIC(28, 8) stores: every total (a balance, a holding) stays at or below it, or its write is refused (422).</summary>
    public const decimal MaxStored = 99_999_999_999_999_999_999.99999999m;

    static readonly decimal UnitsPerOne = 100_000_000m;

    public static bool HasAtMostScale(decimal value) => decimal.Round(value, Scale) == value;

    /// <summary>A product of two eight-place values (shares × price) back to eight places, half to even.</summary>
    public static decimal Round(decimal value) => decimal.Round(value, Scale, MidpointRounding.ToEven);

    public static decimal Divide(decimal dividend, decimal divisor) =>
        decimal.Round(dividend / divisor, Scale, MidpointRounding.ToEven);

    /// <summary>
    /// The mean price of a holding after adding <paramref name="quantity"/> at <paramref name="price"/>:
    /// (amount * mean + quantity * price) / (amount + quantity), computed exactly on integers and rounded once,
    /// half to even, to eight places. decimal alone would round the products beyond 28 significant digits first.
    /// </summary>
    public static decimal WeightedMean(decimal amount, decimal mean, decimal quantity, decimal price)
    {
        var weight = Units(amount) + Units(quantity);
        if (weight.IsZero) throw new ArgumentException("The holding and the quantity are both zero; their mean is undefined.");
        var cost = Units(amount) * Units(mean) + Units(quantity) * Units(price); // scale 16
        return FromUnits(DivideHalfEven(cost, weight)); // scale 16 - 8 = 8
    }

    static BigInteger DivideHalfEven(BigInteger dividend, BigInteger divisor)
    {
        var quotient = BigInteger.DivRem(dividend, divisor, out var remainder);
        if (remainder.IsZero) return quotient;
        var sign = (dividend.Sign * divisor.Sign) < 0 ? -1 : 1;
        var half = (BigInteger.Abs(remainder) * 2).CompareTo(BigInteger.Abs(divisor));
        return half > 0 || (half == 0 && !quotient.IsEven) ? quotient + sign : quotient;
    }

    static BigInteger Units(decimal value)
    {
        var units = value * UnitsPerOne;
        if (decimal.Truncate(units) != units)
            throw new ArgumentException($"{value} has more than {Scale} decimal places.", nameof(value));
        return new BigInteger(units);
    }

    static decimal FromUnits(BigInteger units) => (decimal)units / UnitsPerOne;
}
