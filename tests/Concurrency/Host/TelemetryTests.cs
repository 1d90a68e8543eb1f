using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Ledger;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Host;

/// <summary>What an operator scrapes and traces: /metrics in the Prometheus format, a span per command and one per strategy attempt.</summary>
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
