using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Monolith.Host;

/// <summary>
/// A request the framework could not bind (a body that is not the JSON the route reads, a header that is missing, a
/// route value that is not a UUID) as a problem naming the field and the reason, like a validator's refusal. The
/// framework says which parameter failed only in its message, so the parameter is found there and then in the
/// endpoint's own metadata; a JSON error carries the path of the member that failed.
/// </summary>
internal static partial class BindingFailure
{
    public static HttpValidationProblemDetails Describe(HttpContext http, BadHttpRequestException bad)
    {
        var (field, reason) = Locate(http, bad);
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [reason] })
        {
            Status = bad.StatusCode,
            Title = bad.StatusCode == StatusCodes.Status415UnsupportedMediaType ? "Unsupported media type" : "Invalid request",
        };
    }

    static (string Field, string Reason) Locate(HttpContext http, BadHttpRequestException bad)
    {
        // The exception handler clears the request's endpoint before it runs; the feature keeps the one that failed.
        var endpoint = http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();
        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType)
            return ("body", "The body must be JSON, sent as application/json.");
        if (bad.InnerException is JsonException json)
            return FromJson(endpoint?.Metadata.OfType<IAcceptsMetadata>().Select(a => a.RequestType).FirstOrDefault(t => t is not null), json);

        var match = ParameterInMessage().Match(bad.Message);
        var parameter = match.Success
            ? endpoint?.Metadata.OfType<IParameterBindingMetadata>().FirstOrDefault(p => p.Name == match.Groups["name"].Value)?.ParameterInfo
            : null;
        if (parameter is null) return ("body", "The body must be a JSON object of this route's request.");
        if (parameter.GetCustomAttribute<FromHeaderAttribute>() is { } header)
        {
            var name = header.Name ?? parameter.Name!;
            return (name, bad.Message.StartsWith("Required", StringComparison.Ordinal) ? $"The {name} header is required." : $"The {name} header is not valid.");
        }
        if (parameter.ParameterType.IsClass && parameter.ParameterType != typeof(string))
            return ("body", "The body must be a JSON object of this route's request.");
        return (parameter.Name!, $"'{parameter.Name}' must be {Expected(parameter.ParameterType)}.");
    }

    static (string Field, string Reason) FromJson(Type? body, JsonException json)
    {
        // Not JSON at all (the reader failed, wherever it was): the body, not the member it was reading.
        if (json.InnerException?.GetType().Name == "JsonReaderException")
            return ("body", "The body is not valid JSON.");
        // "$.amount", "$.items[2].price"; "$" or none: the document itself.
        var path = json.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
        if (path is null) return ("body", "The body must be a JSON object of this route's request.");
        var property = body?.GetProperty(path, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null) return (path, $"'{path}' is not a field of this request.");
        return (path, $"'{path}' must be {Expected(property.PropertyType)}.");
    }

    static string Expected(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(decimal) => "a JSON number (not a string, not Infinity or NaN) within the amount limits",
        var t when t == typeof(Guid) => "a UUID, for example 0191f1c3-7d1e-7c4b-9a9e-3f5e2d1c0b7a",
        var t when t == typeof(DateTimeOffset) => "an ISO 8601 instant with an offset, for example 2026-01-05T12:00:00Z",
        var t when t == typeof(string) => "a JSON string",
        var t when t == typeof(int) || t == typeof(long) => "a whole JSON number",
        var t when t.IsEnum => "one of " + string.Join(", ", Enum.GetNames(t).Select(n => $"'{JsonNamingPolicy.CamelCase.ConvertName(n)}'")),
        var t => $"a {t.Name}",
    };

    // RequestDelegateFactory's messages: 'Failed to bind parameter "Guid id" from "x".',
    // 'Required parameter "string idempotencyKey" was not provided from header.'
    [GeneratedRegex("parameter \"(?<type>[^\"]+) (?<name>[A-Za-z0-9_]+)\"")]
    private static partial Regex ParameterInMessage();
}
