using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Host;

internal static class HealthResponse
{
    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        var strategies = http.RequestServices.GetServices<ConfiguredStrategy>().ToDictionary(s => s.Module, s => s.Strategy);
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            provider = DatabaseProvider.Current.ToString(),
            profile = http.RequestServices.GetRequiredService<DatabaseProfile>().ToString(),
            strategies,
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}
