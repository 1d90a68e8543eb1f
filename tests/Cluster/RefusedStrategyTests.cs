using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Ledger;
using Xunit.Abstractions;

namespace Monolith.Tests.Cluster;

/// <summary>
/// Why the cluster profile refuses SingleWriter: run anyway (the suite's switch), with a writer on each of two nodes,
/// the anomaly it was refused for shows up. It depends on the timing of the second node's applier, so the scenario
/// runs up to <see cref="Tries"/> times while other writers keep the appliers busy, and must occur at least once. It
/// was seen at tries 26, 38, 56 and 150: about one try in 70, so 600 tries miss it about once in 5,000 runs.
/// </summary>
public sealed class RefusedStrategyTests(ClusterDatabase cluster, ITestOutputHelper output) : IClassFixture<ClusterDatabase>
{
    const int Tries = 600;

    [Fact]
    public async Task SingleWriter_loses_an_acknowledged_deposit_across_nodes()
    {
        var (occurred, tries) = await TryUntilAnomalyAsync(nameof(StrategyName.SingleWriter), async (first, second) =>
        {
            var account = await first.OpenFundedAsync(100m);
            var outcome = await new Interleaving<LedgerDbContext>(first, output, secondServices: second).RunAsync(
                (session, pause, ct) => LedgerInterleavings.DepositAsync(session, account, 10m, pause, ct),
                (session, pause, ct) => LedgerInterleavings.DepositAsync(session, account, 20m, pause, ct));
            var expected = 100m + (outcome.First is null ? 10m : 0m) + (outcome.Second is null ? 20m : 0m);
            var balance = await BalanceAsync(first, account);
            return balance != expected ? $"balance {balance:0.00}, {expected:0.00} acknowledged" : null;
        });
        Report(nameof(StrategyName.SingleWriter), AnomalyMatrix.LostUpdate, occurred, tries);
        Assert.True(occurred is not null, $"no lost update in {tries} tries");
    }

    async Task<(string? Occurred, int Tries)> TryUntilAnomalyAsync(string strategy, Func<ServiceProvider, ServiceProvider, Task<string?>> scenario)
    {
        await using var first = cluster.Services(strategy, 1, DatabaseProfile.GaleraCluster);
        await using var second = cluster.Services(strategy, 2, DatabaseProfile.GaleraCluster);
        // The anomalies were first seen with two other classes' bank workloads (8 writers each) running on the cluster.
        await using var loadOnFirst = cluster.Services(nameof(StrategyName.PessimisticRowLock), 1, DatabaseProfile.GaleraCluster);
        await using var loadOnThird = cluster.Services(nameof(StrategyName.PessimisticRowLock), 3, DatabaseProfile.GaleraCluster);
        using var stop = new CancellationTokenSource();
        var busy = Task.WhenAll(KeepAppliersBusyAsync(loadOnFirst, stop.Token), KeepAppliersBusyAsync(loadOnThird, stop.Token));
        try
        {
            for (var i = 1; i <= Tries; i++)
                if (await scenario(first, second) is { } anomaly) return (anomaly, i);
            return (null, Tries);
        }
        finally
        {
            await stop.CancelAsync();
            await busy;
        }
    }

    /// <summary>Deposits on accounts of their own: every node applies them, between the scenario's statements.</summary>
    static async Task KeepAppliersBusyAsync(ServiceProvider services, CancellationToken stop)
    {
        var accounts = new List<Guid>();
        for (var i = 0; i < 12; i++) accounts.Add(await services.OpenFundedAsync(1m));
        await Task.WhenAll(accounts.Select(account => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await using var scope = services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new Deposit(Tester, account, 1m), CancellationToken.None);
            }
        })));
    }

    static async Task<decimal> BalanceAsync(ServiceProvider services, Guid account)
    {
        await using var scope = services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new GetAccount(Tester, account))).Balance;
    }

    void Report(string strategy, string anomaly, string? occurred, int tries)
    {
        var observed = occurred is null ? $"not seen in {tries} tries" : $"**occurs**: {occurred} (try {tries})";
        output.WriteLine($"{strategy}, {anomaly}: {observed}");
        AnomalyMatrix.Record(strategy, anomaly, "Galera-refused", observed);
    }
}
