using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Faults;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Portfolio;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.ScaleOut;

/// <summary>
/// Three Host processes on one database, as behind a load balancer: the Ledger and Portfolio HTTP race workloads at
/// once, their clients spread over the three, under each strategy. Each process has its own connection pool, its own
/// retries and, under SingleWriter, its own writers, so what keeps the money right is what the database enforces
/// between processes. The checks are the single-Host ones (docs/scale-out.md).
/// </summary>
public sealed class ThreeHostsRaceTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    const int LedgerClients = 12;
    const int LedgerRequests = 900;
    const int PortfolioClients = 6;
    const int PortfolioRequests = 300;

    [Theory]
    [InlineData(nameof(StrategyName.PessimisticRowLock))]
    [InlineData(nameof(StrategyName.OptimisticCas))]
    [InlineData(nameof(StrategyName.HybridMvcc))]
    [InlineData(nameof(StrategyName.GapLock))]
    [InlineData(nameof(StrategyName.SerializableRetry))]
    [InlineData(nameof(StrategyName.SingleWriter))]
    public async Task Three_Hosts_on_one_database_keep_the_ledger_and_portfolio_invariants(string strategy)
    {
        await using var hosts = await HostGroup.StartAsync(Enumerable.Range(0, 3).Select(_ => new Dictionary<string, string>
        {
            ["ConnectionStrings:Monolith"] = database.ConnectionString,
            ["Concurrency:Strategy"] = strategy,
        }));
        AssertHeld(strategy, "three Hosts over HTTP, one database", hosts, await RaceAsync(hosts, database), output);
    }

    /// <summary>
    /// Reports a race's figures and holds it to the single-Host checks: no violation, no 500, something written. When
    /// one fails, what the Hosts logged as errors goes with it: the Hosts are gone once the test ends.
    /// </summary>
    internal static void AssertHeld(string strategy, string scenario, HostGroup hosts, (LedgerHttpWorkload.Outcome Ledger, PortfolioHttpWorkload.Outcome Portfolio) race,
        ITestOutputHelper output, string? prefix = null)
    {
        var (ledger, portfolio) = race;
        var figures = $"{prefix}ledger {ledger}; portfolio {portfolio}";
        RaceReport.Write(strategy, scenario, figures);
        output.WriteLine(figures);
        foreach (var violation in ledger.Violations.Concat(portfolio.Violations).Take(20)) output.WriteLine(violation);
        if (ledger.Violations.Count + portfolio.Violations.Count + ledger.ServerErrors > 0)
            foreach (var line in hosts.ErrorLog()) output.WriteLine(line);
        Assert.Empty(ledger.Violations);
        Assert.Empty(portfolio.Violations);
        Assert.True(ledger.Created > 0 && portfolio.Created > 0, figures);
        Assert.Equal(0, ledger.ServerErrors);
    }

    /// <summary>Both workloads at once, their clients spread over <paramref name="hosts"/>.</summary>
    internal static async Task<(LedgerHttpWorkload.Outcome Ledger, PortfolioHttpWorkload.Outcome Portfolio)> RaceAsync(HostGroup hosts, TestDatabase database,
        Func<LedgerHttpWorkload, Task>? fault = null)
    {
        var ledger = new LedgerHttpWorkload(hosts.Clients, database);
        var portfolio = new PortfolioHttpWorkload(hosts.Clients, database);
        var ledgerRun = ledger.RunAsync(LedgerClients, fault ?? (async w => { while (w.Requests < LedgerRequests) await Task.Delay(50); }), hotAccounts: 4);
        var portfolioRun = portfolio.RunAsync(PortfolioClients, PortfolioRequests);
        return (await ledgerRun, await portfolioRun);
    }
}

/// <summary>Host processes started together, each on its own port, and a client factory per Host.</summary>
internal sealed class HostGroup : IAsyncDisposable
{
    HostGroup(IReadOnlyList<HostProcess> hosts) => Hosts = hosts;

    public IReadOnlyList<HostProcess> Hosts { get; }

    public IReadOnlyList<Func<HttpClient>> Clients => Hosts.Select(h => (Func<HttpClient>)(() => new HttpClient { BaseAddress = h.BaseAddress })).ToList();

    public static async Task<HostGroup> StartAsync(IEnumerable<IReadOnlyDictionary<string, string>> settings)
    {
        var starting = settings.Select(HostProcess.StartAsync).ToList();
        try
        {
            return new HostGroup(await Task.WhenAll(starting));
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully)) await started.Result.DisposeAsync();
            throw;
        }
    }

    /// <summary>Each Host's error and critical log entries, with the lines that follow each (its exception), at most 200 lines a Host.</summary>
    public IEnumerable<string> ErrorLog() => Hosts.SelectMany((host, i) =>
    {
        var entries = new List<string>();
        var inError = false;
        foreach (var line in host.Output)
        {
            if (line.StartsWith("fail: ") || line.StartsWith("crit: ")) inError = true;
            else if (line.Length > 5 && line[4] == ':' && line[5] == ' ' && !char.IsWhiteSpace(line[0])) inError = false;
            if (inError) entries.Add($"Host {i + 1}: {line}");
        }
        return entries.Take(200);
    });

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Hosts) await host.DisposeAsync();
    }
}
