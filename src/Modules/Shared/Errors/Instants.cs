using System.Globalization;
using System.Text.RegularExpressions;

namespace Monolith.Shared.Errors;

/// <summary>Instants in query strings ("?at=") and bodies: ISO 8601 with an offset.</summary>
public static partial class Instants
{
    /// <summary>
    /// ISO 8601 with its offset (Z or ±hh:mm) and nothing else: an instant without one would be read in the server's
    /// zone or assumed UTC, a guess about when money moved.
    /// </summary>
    public static bool TryParse(string? text, out DateTimeOffset instant)
    {
        instant = default;
        return text is not null && Iso8601WithOffset().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    /// <summary>A JSON string that <see cref="TryParse"/> accepts, or a JsonException (a field error) for any other.</summary>
    public sealed class JsonConverter : System.Text.Json.Serialization.JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref System.Text.Json.Utf8JsonReader reader, Type type, System.Text.Json.JsonSerializerOptions options) =>
            reader.TokenType == System.Text.Json.JsonTokenType.String && TryParse(reader.GetString(), out var instant)
                ? instant
                : throw new System.Text.Json.JsonException("Not an ISO 8601 instant with an offset.");

        public override void Write(System.Text.Json.Utf8JsonWriter writer, DateTimeOffset value, System.Text.Json.JsonSerializerOptions options) =>
            writer.WriteStringValue(value);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})\z")]
    private static partial Regex Iso8601WithOffset();

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
