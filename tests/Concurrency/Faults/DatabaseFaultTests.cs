using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Faults;

/// <summary>
/// The database fails under the Ledger's HTTP workload: killed, frozen, its connections cut, its pool exhausted. On a
/// server of this class's own, so the other classes never see the faults. Each fault must end in answers that never
/// contradict the database: no 500, outages as 503 with Retry-After, and every write either acknowledged and stored
/// once, or absent, or found by its key on retry.
/// </summary>
public sealed class DatabaseFaultTests(DatabaseServer server, ITestOutputHelper output) : IClassFixture<DatabaseServer>
{
    const int Clients = 16;

    [Fact]
    public Task Server_killed_and_restarted_mid_run() => RunAsync("server killed (kill -9) and restarted", async run =>
    {
        await UntilAsync(run, 200);
        await server.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await server.StartAsync();
        await UntilAsync(run, run.Requests + 200);
    });

    [Fact]
    public Task Server_frozen_for_ten_seconds() => RunAsync("server frozen (SIGSTOP) for 10 s, commands time out at 4 s", async run =>
    {
        await UntilAsync(run, 200);
        await server.FreezeAsync();
        try { await Task.Delay(TimeSpan.FromSeconds(10)); }
        finally { await server.ThawAsync(); }
        await UntilAsync(run, run.Requests + 200);
    }, settings: new()
    {
        // Tighter than the defaults (5 s to connect, 10 s per command), so that the freeze outlasts them.
        ["Database:ConnectTimeout"] = "00:00:02",
        ["Database:CommandTimeout"] = "00:00:04",
        ["Concurrency:LockTimeout"] = "00:00:02",
    });

    [Fact]
    public Task Connections_terminated_mid_transaction() => RunAsync("every connection terminated every 100 ms for 3 s", async run =>
    {
        await UntilAsync(run, 200);
        var ended = 0;
        for (var until = DateTime.UtcNow.AddSeconds(3); DateTime.UtcNow < until; await Task.Delay(100))
            ended += await server.TerminateConnectionsAsync(run.DatabaseName);
        output.WriteLine($"{ended} connections terminated");
        await UntilAsync(run, run.Requests + 200);
    });

    [Fact]
    public Task Pool_exhausted_by_a_burst() => RunAsync("a burst of 200 clients on a pool of 4 held for 3 s by slow work", async run =>
    {
        await UntilAsync(run, 400);
        // Slow work in the Host (a report, a stuck statement) holds every pooled connection: the burst finds none free.
        await using (await run.HoldConnectionsAsync(PoolSize))
            await Task.Delay(TimeSpan.FromSeconds(3));
        await UntilAsync(run, run.Requests + 400);
    }, clients: 200, maxPoolSize: PoolSize, hotAccounts: 2, settings: new() { ["Database:ConnectTimeout"] = "00:00:01" });

    const int PoolSize = 4;

    [Fact]
    public async Task Health_answers_unhealthy_while_the_server_is_frozen()
    {
        var database = new TestDatabase(server.ConnectionString("postgres"));
        await database.InitializeAsync();
        try
        {
            await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(h => h.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
            var client = host.CreateClient().As(Tester);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

            await server.FreezeAsync();
            try
            {
                var frozen = await client.GetAsync("/health");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, frozen.StatusCode);
                Assert.Equal("Unhealthy", (await frozen.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
            }
            finally { await server.ThawAsync(); }
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    async Task RunAsync(string fault, Func<LedgerHttpWorkload, Task> script, int clients = Clients, int maxPoolSize = 100, int hotAccounts = 8,
        Dictionary<string, string?>? settings = null)
    {
        var database = new TestDatabase(server.ConnectionString("postgres", maxPoolSize));
        await database.InitializeAsync();
        try
        {
            await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(h =>
            {
                h.UseSetting("ConnectionStrings:Monolith", database.ConnectionString);
                foreach (var (key, value) in settings ?? []) h.UseSetting(key, value);
            });
            var workload = new LedgerHttpWorkload(host, database);
            var outcome = await workload.RunAsync(clients, script, hotAccounts);
            RaceReport.Write(nameof(StrategyName.PessimisticRowLock), $"ledger over HTTP, {fault}, {clients} clients", outcome.ToString());
            output.WriteLine(outcome.ToString());
            foreach (var violation in outcome.Violations.Take(20)) output.WriteLine(violation);

            Assert.Empty(outcome.Violations);
            Assert.True(outcome.Unavailable + outcome.NoAnswer > 0, $"no request met the fault ({fault}): {outcome}");
            Assert.Equal(0, outcome.NoAnswer);
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    static async Task UntilAsync(LedgerHttpWorkload run, int requests)
    {
        while (run.Requests < requests) await Task.Delay(10);
    }
}
