using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Monolith.Lab;
using Monolith.Shared.Modules;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Host;

/// <summary>The lab's API: bounded input, results the race suite would accept, scratch databases gone afterwards, and off when configured off.</summary>
public sealed class LabApiTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData("ledger-transfers", "HybridMvcc", "SingleWriter", 2)]
    [InlineData("portfolio-trades", "OptimisticCas", "SerializableRetry", 2)]
    public async Task A_run_reports_each_strategy_per_second_checks_the_invariants_and_drops_its_scratch_databases(
        string workload, string first, string second, int invariants)
    {
        await using var factory = Host();
        var client = factory.CreateClient().As(Tester);
        var started = await client.PostAsJsonAsync("/api/lab/runs", new
        {
            workload, hotSet = 3, workers = 4, durationSeconds = 3, strategies = new[] { first, second },
        });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var run = await EndedAsync(client, started);
        output.WriteLine(run.ToString());

        Assert.Equal("Ended", run.GetProperty("state").GetString());
        foreach (var lane in run.GetProperty("lanes").EnumerateArray())
        {
            Assert.True(lane.GetProperty("passed").GetBoolean(), $"{lane.GetProperty("strategy")}: an invariant failed");
            Assert.Equal(invariants, lane.GetProperty("invariants").GetArrayLength());
            Assert.True(lane.GetProperty("points").GetArrayLength() >= 2, "fewer points than seconds raced");
            Assert.True(lane.GetProperty("totals").GetProperty("committed").GetInt64() > 0);
        }

        // Dropped: nothing of the run is left to mix with real accounts.
        foreach (var lane in new[] { 1, 2 })
        {
            await using var connection = DatabaseProvider.Connect(RaceStack.OnDatabase(database.ConnectionString, $"{database.Name}_lab_{lane}"));
            await Assert.ThrowsAnyAsync<DbException>(() => connection.OpenAsync());
        }
    }

    /// <summary>
    /// A run counts in /metrics beside the API's own writes, and both stay there after the run's stacks are gone. Each
    /// lane's stack has a meter of its own; were it the exported one, its disposal would take the series of every
    /// meter of that name with it (an exporter reports a disposed instrument's series once more, then drops them), the
    /// API's included. So the second scrape, past the exporter's cache, is the test. A Host process of its own: in
    /// this one the other classes' stacks come and go under the same meter name.
    /// </summary>
    [Fact]
    public async Task A_finished_run_stays_counted_in_metrics_beside_the_APIs_own_writes()
    {
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string> { ["ConnectionStrings:Monolith"] = database.ConnectionString });
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.As(Tester);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/ledger/accounts", new { currency = "EUR" })).StatusCode);
        var started = await client.PostAsJsonAsync("/api/lab/runs", new
        {
            workload = "ledger-transfers", hotSet = 3, workers = 4, durationSeconds = 2, strategies = new[] { "OptimisticCas", "HybridMvcc" },
        });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var run = await EndedAsync(client, started);
        Assert.Equal("Ended", run.GetProperty("state").GetString());

        await client.GetStringAsync("/metrics");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var scraped = (await client.GetStringAsync("/metrics")).Split('\n');
        long Attempts(string strategy)
        {
            var series = scraped.FirstOrDefault(l => l.StartsWith("monolith_concurrency_attempts_total{") && l.Contains("module=\"ledger\"") && l.Contains($"strategy=\"{strategy}\""));
            Assert.True(series is not null, $"no attempts of {strategy} in ledger in /metrics after the run");
            output.WriteLine(series);
            return long.Parse(series.Split("} ")[1].Split(' ')[0]);
        }

        Assert.Equal(1, Attempts("PessimisticRowLock")); // the API's, opening the account
        foreach (var lane in run.GetProperty("lanes").EnumerateArray())
            Assert.Equal(lane.GetProperty("totals").GetProperty("attempts").GetInt64(), Attempts(lane.GetProperty("strategy").GetString()!));
    }

    /// <summary>
    /// The panel's "pass" can fail: after a short race, one row is changed behind the strategy's back (a lost write
    /// would leave the same trace), and the arena's checks name the invariant it breaks.
    /// </summary>
    [Theory]
    [InlineData("ledger-transfers", "UPDATE {ledger.accounts} SET balance = balance + 1 WHERE id = (SELECT account_id FROM {ledger.entries} ORDER BY account_id LIMIT 1)",
        "conservation", LedgerScratch.BalancesAgree)]
    [InlineData("portfolio-trades", "UPDATE {portfolio.snapshots} SET mean_price = mean_price + 1 WHERE transaction_id = (SELECT id FROM {portfolio.transactions} ORDER BY id DESC LIMIT 1)",
        "every snapshot equals its recomputation")]
    public async Task The_checks_catch_a_row_changed_behind_the_strategys_back(string workload, string tamper, params string[] broken)
    {
        var race = RaceWorkloads.All.Single(w => w.Name == workload);
        var scratch = $"{database.Name}_check";
        await using var arena = await race.PrepareAsync(database.ConnectionString, scratch, "PessimisticRowLock", DatabaseProfile.SingleServer, countAlsoIn: null, hotSet: 2, CancellationToken.None);
        var operations = 0;
        await arena.RunWorkerAsync(0, () => operations < 20, (_, _) => operations++, CancellationToken.None);
        Assert.All(await arena.CheckAsync(CancellationToken.None), c => Assert.True(c.Held, $"{c.Name}: {c.Figures}"));

        var sql = System.Text.RegularExpressions.Regex.Replace(tamper, @"\{(\w+)\.(\w+)\}", m => DatabaseProvider.ModuleTable(m.Groups[1].Value, m.Groups[2].Value));
        await using (var connection = DatabaseProvider.Connect(RaceStack.OnDatabase(database.ConnectionString, scratch)))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var checks = await arena.CheckAsync(CancellationToken.None);
        foreach (var check in checks) output.WriteLine($"{check.Name}: {(check.Held ? "held" : "BROKEN")}, {check.Figures}");
        Assert.Equal(broken.Order(), checks.Where(c => !c.Held).Select(c => c.Name).Order());
    }

    [Fact]
    public async Task Bad_input_gets_field_errors_and_starts_nothing()
    {
        await using var factory = Host();
        var client = factory.CreateClient().As(Tester);
        var refused = await client.PostAsJsonAsync("/api/lab/runs", new
        {
            workload = "ledger-transfers", hotSet = 1, workers = 0, durationSeconds = 3600, strategies = new[] { "RedisLock", "RedisLock" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        output.WriteLine(errors.ToString());
        foreach (var field in new[] { "hotSet", "workers", "durationSeconds", "strategies" }) Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}");
        Assert.Contains(errors.EnumerateObject(), e => e.Value.ToString().Contains("'RedisLock' cannot race in ledger-transfers"));

        // An owner who is not an operator may not load the database server.
        var owner = await factory.CreateClient().As(Monolith.Shared.Access.Caller.Owner("alice"))
            .PostAsJsonAsync("/api/lab/runs", new { workload = "ledger-transfers", hotSet = 2, workers = 1, durationSeconds = 1, strategies = new[] { "GapLock" } });
        Assert.Equal(HttpStatusCode.Forbidden, owner.StatusCode);

        // Nothing is running: a valid start is accepted at once.
        var valid = await client.PostAsJsonAsync("/api/lab/runs", new { workload = "ledger-transfers", hotSet = 2, workers = 1, durationSeconds = 1, strategies = new[] { "GapLock" } });
        Assert.Equal(HttpStatusCode.Created, valid.StatusCode);
    }

    [Fact]
    public async Task On_the_cluster_profile_a_strategy_it_refuses_is_refused_with_its_reason()
    {
        await using var factory = Host(("Database:Profile", "GaleraCluster"));
        if (DatabaseProvider.Current != DatabaseKind.MySql)
        {
            Assert.Contains("needs the MySql build", Assert.Throws<InvalidOperationException>(() => factory.CreateClient()).Message);
            return;
        }
        var refused = await factory.CreateClient().As(Tester).PostAsJsonAsync("/api/lab/runs", new
        {
            workload = "ledger-transfers", hotSet = 2, workers = 1, durationSeconds = 1, strategies = new[] { "PessimisticRowLock", "SerializableRetry" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").ToString();
        output.WriteLine(errors);
        Assert.Contains("'SerializableRetry' is refused on Database:Profile GaleraCluster", errors);
        Assert.DoesNotContain("PessimisticRowLock", errors);
    }

    [Fact]
    public async Task Turned_off_by_configuration_the_page_the_API_and_its_document_entries_are_gone()
    {
        await using var factory = Host(("Lab:Enabled", "false"));
        var client = factory.CreateClient().As(Tester);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/lab")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/lab")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/api/lab/runs", new { })).StatusCode);
        var document = await client.GetStringAsync("/openapi/v1.json");
        Assert.DoesNotContain("/api/lab", document);
        Assert.Contains("/api/ledger/transfers", document);
    }

    /// <summary>The run <paramref name="started"/> names, once it has ended; bounded for a hung run, not a measurement.</summary>
    static async Task<JsonElement> EndedAsync(HttpClient client, HttpResponseMessage started)
    {
        JsonElement run;
        var bound = DateTime.UtcNow.AddSeconds(120);
        do
        {
            await Task.Delay(200);
            run = await client.GetFromJsonAsync<JsonElement>(started.Headers.Location);
        } while (!run.GetProperty("ended").GetBoolean() && DateTime.UtcNow < bound);
        return run;
    }

    WebApplicationFactory<Program> Host(params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString);
            foreach (var (key, value) in settings) host.UseSetting(key, value);
        });
}
