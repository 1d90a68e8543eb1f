using System.Globalization;

namespace Monolith.Shared.Errors;

/// <summary>Instants in query strings ("?at="): ISO 8601, UTC unless an offset is given.</summary>
public static class Instants
{
    public static bool TryParse(string? text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant);

    /// <summary>An instant the request's validator has accepted (<c>MustBeAnInstant</c>).</summary>
    public static DateTimeOffset Parse(string text) =>
        TryParse(text, out var instant) ? instant : throw new FormatException($"'{text}' is not an ISO 8601 instant.");

    /// <summary>How an instant travels in a request: round-trip ISO 8601, offset included.</summary>
    public static string Format(DateTimeOffset instant) => instant.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>What both databases store: microseconds. Instants are cut to that before they are stored or compared.</summary>
    public static DateTimeOffset ToStoredPrecision(this DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % 10, TimeSpan.Zero);
    }
}
