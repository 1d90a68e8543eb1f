using Monolith.Shared;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Monolith.Host;

/// <summary>
/// OpenTelemetry for the Host (docs/telemetry.md): metrics (the Monolith.Concurrency meter, HTTP server and client,
/// the .NET runtime, and the database driver's connection pools) scraped at /metrics in the Prometheus text format, and traces
/// (a span per request, per command, per strategy attempt, and per database command). Nothing leaves the process unless
/// OTEL_EXPORTER_OTLP_ENDPOINT is set: then both go to that collector over OTLP, configured by the standard OTEL_* settings.
/// </summary>
internal static class HostTelemetry
{
    public const string MetricsPath = "/metrics";
    const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void AddHostTelemetry(this WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("monolith", serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ConcurrencyMetrics.MeterName, DatabaseProvider.ClientTelemetryName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
            });
        // Spans cost every request their allocations whether or not anyone reads them, so they are made only when
        // there is a collector to send them to: with no listener, ASP.NET Core, the commands and the driver make none.
        if (string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpoint])) return;
        telemetry.WithTracing(tracing => tracing
                .AddSource(Telemetry.CommandSource, Telemetry.AttemptSource, DatabaseProvider.ClientTelemetryName)
                // A scrape or a probe every few seconds would bury the requests worth reading.
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments(MetricsPath) && !http.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation())
            .UseOtlpExporter();
    }

    public static void MapHostTelemetry(this WebApplication app) => app.MapPrometheusScrapingEndpoint(MetricsPath).ExcludeFromDescription();
}
