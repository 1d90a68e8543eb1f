namespace Monolith.Shared;

/// <summary>
/// Money is decimal, stored as NUMERIC(28, 8). Amounts with more than eight decimal places are rejected,
/// never rounded. Where a division happens, it rounds to eight places, half to even (banker's rounding).
/// </summary>
public static class Money
{
    public const int Precision = 28;
    public const int Scale = 8;

    public static bool HasAtMostScale(decimal value) => decimal.Round(value, Scale) == value;

    public static decimal Divide(decimal dividend, decimal divisor) =>
        decimal.Round(dividend / divisor, Scale, MidpointRounding.ToEven);
}
