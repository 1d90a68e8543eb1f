namespace Monolith.Portfolio.Domain;

/// <summary>A tradable token, priced in its quote currency (unit prices and mean prices are in that currency).</summary>
internal sealed class Token
{
    public const string SymbolPattern = "^[A-Z0-9]{1,16}\\z";

    public string Symbol { get; private set; } = "";
    public string QuoteCurrency { get; private set; } = "";
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; private set; }

    public static Token Register(string symbol, string quoteCurrency) => new() { Symbol = symbol, QuoteCurrency = quoteCurrency };
}
