using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Ledger;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Host;

/// <summary>What an operator scrapes and traces: /metrics in the Prometheus format, a span per command and one per strategy attempt, and /health.</summary>
public sealed class TelemetryTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Metrics_carry_the_concurrency_counters_HTTP_server_and_runtime_metrics()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        var client = factory.CreateClient().As(Tester);
        var opened = await client.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" });
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);

        var scrape = await factory.CreateClient().GetAsync("/metrics"); // no token: a scraper has none
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        var lines = (await scrape.Content.ReadAsStringAsync()).Split('\n');
        foreach (var line in lines.Where(l => l.StartsWith("monolith_"))) output.WriteLine(line);

        Assert.Contains(lines, l => l.StartsWith("monolith_concurrency_attempts_total{") && l.Contains("module=\"ledger\"") && l.Contains("strategy=\"PessimisticRowLock\""));
        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_count{") && l.Contains("http_route=\"/api/ledger/accounts\""));
        Assert.Contains(lines, l => l.StartsWith("dotnet_") && l.Contains("otel_scope_name=\"System.Runtime\""));
    }

    [Fact]
    public async Task Health_names_the_provider_the_profile_and_each_modules_strategy()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:Monolith", database.ConnectionString)
            .UseSetting("Concurrency:Strategy", nameof(StrategyName.OptimisticCas))
            .UseSetting("Concurrency:Modules:Portfolio", nameof(StrategyName.SingleWriter)));
        var health = await factory.CreateClient().GetFromJsonAsync<JsonElement>("/health"); // no token: a load balancer has none

        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Equal(DatabaseProvider.Current.ToString(), health.GetProperty("provider").GetString());
        Assert.Equal(nameof(DatabaseProfile.SingleServer), health.GetProperty("profile").GetString());
        var strategies = health.GetProperty("strategies").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(new Dictionary<string, string?>
        {
            ["Ledger"] = nameof(StrategyName.OptimisticCas),
            ["Portfolio"] = nameof(StrategyName.SingleWriter),
            ["Trading"] = nameof(StrategyName.OptimisticCas),
        }, strategies);
    }

    [Theory]
    [InlineData(nameof(StrategyName.PessimisticRowLock))]
    [InlineData(nameof(StrategyName.SingleWriter))] // its units run on the writer's task, not the caller's
    public async Task A_command_has_a_span_and_each_strategy_attempt_a_child_span(string strategy)
    {
        await using var services = database.Services(strategy);
        var account = await services.OpenFundedAsync(0m);
        using var spans = new Spans();

        await using (var scope = services.CreateAsyncScope())
        using (spans.Trace())
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new Deposit(Tester, account, 10m));

        var command = Assert.Single(spans.Of(Telemetry.CommandSource));
        Assert.Equal(nameof(Deposit), command.DisplayName);
        var attempt = Assert.Single(spans.Of(Telemetry.AttemptSource));
        Assert.Equal(command.SpanId, attempt.ParentSpanId);
        Assert.Equal(strategy, attempt.GetTagItem(Telemetry.Attributes.Strategy));
        Assert.Equal("ledger", attempt.GetTagItem(Telemetry.Attributes.Module));
        Assert.Equal(1, attempt.GetTagItem(Telemetry.Attributes.Attempt));
        Assert.Equal("committed", attempt.GetTagItem(Telemetry.Attributes.Outcome)); // a lone queued unit commits on its own
    }

    [Fact]
    public async Task A_conflicted_attempt_carries_its_reason_and_the_re_run_is_the_next_attempt()
    {
        await using var services = database.Services(nameof(StrategyName.OptimisticCas));
        var account = await services.OpenFundedAsync(100m);
        using var spans = new Spans();

        using (spans.Trace())
            await new Interleaving<LedgerDbContext>(services, output).RunAsync(
                (session, pause, ct) => LedgerInterleavings.DepositAsync(session, account, 10m, pause, ct),
                (session, pause, ct) => LedgerInterleavings.DepositAsync(session, account, 20m, pause, ct));

        var attempts = spans.Of(Telemetry.AttemptSource);
        foreach (var a in attempts) output.WriteLine(string.Join(", ", a.TagObjects.Select(t => $"{t.Key}={t.Value}")));
        var conflicted = Assert.Single(attempts, a => (string?)a.GetTagItem(Telemetry.Attributes.Outcome) == "conflict");
        Assert.Equal(1, conflicted.GetTagItem(Telemetry.Attributes.Attempt));
        Assert.Equal(ActivityStatusCode.Error, conflicted.Status);
        Assert.False(string.IsNullOrEmpty((string?)conflicted.GetTagItem(Telemetry.Attributes.ConflictReason)));
        Assert.Equal(2, attempts.Count(a => (string?)a.GetTagItem(Telemetry.Attributes.Outcome) == "committed"));
        Assert.Contains(attempts, a => a.GetTagItem(Telemetry.Attributes.Attempt) is 2 && (string?)a.GetTagItem(Telemetry.Attributes.Outcome) == "committed");
    }

    /// <summary>
    /// In a Host process of its own: in this one, every test's spans and same-named meters would reach the Host's
    /// exporters too, and a meter another test disposes takes the merged series with it.
    /// </summary>
    [Fact]
    public async Task With_an_OTLP_endpoint_configured_traces_and_metrics_reach_the_collector()
    {
        await using var collector = new OtlpCollector();
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings:Monolith"] = database.ConnectionString,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            // Exported every few hundred milliseconds instead of every 5 s (spans) and 60 s (metrics).
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var opened = await client.As(Tester).PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" });
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);

        // OTLP's protobuf carries names and attribute keys as plain UTF-8: a collector's view without a decoder. The
        // command's span and its attempt's are asked for apart, since a batch can end between them.
        var traces = await collector.FirstAsync("/v1/traces", body => body.Contains(nameof(OpenAccount)));
        Assert.Contains("monolith", traces); // the service name
        await collector.FirstAsync("/v1/traces", body => body.Contains(Telemetry.AttemptSource) && body.Contains(Telemetry.Attributes.Strategy));
        await collector.FirstAsync("/v1/metrics", body => body.Contains(ConcurrencyMetrics.MeterName) && body.Contains(ConcurrencyMetrics.Instruments.Attempts));
        output.WriteLine($"{collector.Received} exports received");
    }

    /// <summary>An OTLP/HTTP endpoint on a free local port that answers every export with success and keeps the bodies.</summary>
    sealed class OtlpCollector : IAsyncDisposable
    {
        readonly HttpListener _listener = new();
        readonly ConcurrentQueue<(string Path, string Body)> _exports = new();
        readonly Task _serving;

        public OtlpCollector()
        {
            Endpoint = new Uri($"http://127.0.0.1:{HostProcess.FreePort()}/");
            _listener.Prefixes.Add(Endpoint.ToString());
            _listener.Start();
            _serving = ServeAsync();
        }

        public Uri Endpoint { get; }
        public int Received => _exports.Count;

        /// <summary>The first export to <paramref name="path"/> whose body matches; bounded by a minute for a hung test, not a measurement.</summary>
        public async Task<string> FirstAsync(string path, Func<string, bool> matches)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                foreach (var export in _exports)
                    if (export.Path == path && matches(export.Body)) return export.Body;
                await Task.Delay(50);
            }
            throw new TimeoutException($"no matching export to {path} within a minute; received: {string.Join(", ", _exports.Select(e => e.Path))}");
        }

        async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) when (!_listener.IsListening) { return; }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _exports.Enqueue((context.Request.Url!.AbsolutePath, System.Text.Encoding.UTF8.GetString(body.ToArray())));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _serving;
            _listener.Close();
        }
    }

    /// <summary>
    /// The spans of Monolith's sources that ended under one trace this test started: other classes run in parallel,
    /// and their spans go to the same process-wide listeners.
    /// </summary>
    sealed class Spans : IDisposable
    {
        const string TestSourceName = "Monolith.Tests.Telemetry";
        static readonly ActivitySource TestSource = new(TestSourceName);
        readonly ConcurrentBag<Activity> _ended = [];
        readonly ActivityListener _listener;
        ActivityTraceId _trace;

        public Spans()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name is Telemetry.CommandSource or Telemetry.AttemptSource or TestSourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity => _ended.Add(activity),
            };
            ActivitySource.AddActivityListener(_listener);
        }

        /// <summary>The root span every span of interest hangs under.</summary>
        public Activity Trace()
        {
            var root = TestSource.StartActivity("test")!;
            _trace = root.TraceId;
            return root;
        }

        public IReadOnlyList<Activity> Of(string source) => _ended.Where(a => a.Source.Name == source && a.TraceId == _trace).ToList();

        public void Dispose() => _listener.Dispose();
    }
}
