using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Monolith.Shared.Errors;

/// <summary>Instants in query strings ("?at="): ISO 8601, UTC unless an offset is given.</summary>
public static class Instants
{
    public static bool TryParse(string? text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant);

    /// <summary>The 400 problem for a query parameter that is no instant, with the field error.</summary>
    public static ProblemHttpResult Invalid(string parameter) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid instant",
            detail: $"'{parameter}' must be an ISO 8601 instant, for example 2026-01-05T12:00:00Z.",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [parameter] = [$"'{parameter}' must be an ISO 8601 instant."] } });

    /// <summary>What both databases store: microseconds. Instants are cut to that before they are stored or compared.</summary>
    public static DateTimeOffset ToStoredPrecision(this DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % 10, TimeSpan.Zero);
    }
}
