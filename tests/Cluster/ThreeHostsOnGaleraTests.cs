using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.ScaleOut;
using Xunit.Abstractions;

namespace Monolith.Tests.Cluster;

/// <summary>
/// Three Host processes, each bound to its own Galera node under the cluster profile, racing the Ledger and Portfolio
/// HTTP workloads with the checks of ThreeHostsRaceTests, under every strategy the profile accepts. A node killed
/// mid-race is NodeKillTests'.
/// </summary>
public sealed class ThreeHostsOnGaleraTests(ClusterDatabase cluster, ITestOutputHelper output) : IClassFixture<ClusterDatabase>
{
    [Theory]
    [InlineData(nameof(StrategyName.PessimisticRowLock))]
    [InlineData(nameof(StrategyName.OptimisticCas))]
    [InlineData(nameof(StrategyName.HybridMvcc))]
    [InlineData(nameof(StrategyName.GapLock))]
    [InlineData(nameof(StrategyName.SingleWriter))]
    public async Task Three_Hosts_on_three_nodes_keep_the_ledger_and_portfolio_invariants(string strategy)
    {
        await using var hosts = await HostGroup.StartAsync(GaleraCluster.Nodes.Select(node => cluster.HostSettings(strategy, node)));
        ThreeHostsRaceTests.AssertHeld(strategy, "three Hosts over HTTP, one per Galera node", hosts, await ThreeHostsRaceTests.RaceAsync(hosts, cluster.OnFirstNode), output);
    }

    /// <summary>
    /// The Ledger workload alone through three Hosts, first all three bound to node 1, then one per node: requests
    /// answered per second between the 100th and the 1,300th, side by side (docs/scale-out.md). The figures go to the
    /// race report; the test holds both runs to the checks, not to a speed.
    /// </summary>
    [Fact]
    public async Task Ledger_throughput_through_one_node_and_through_three_with_the_invariants_held()
    {
        foreach (var (layout, nodes) in new[] { ("three Hosts on one node", new[] { 1, 1, 1 }), ("three Hosts on three nodes", GaleraCluster.Nodes) })
        {
            await using var hosts = await HostGroup.StartAsync(nodes.Select(n => cluster.HostSettings(nameof(StrategyName.PessimisticRowLock), n)));
            var elapsed = TimeSpan.Zero;
            var ledger = new Monolith.Tests.Concurrency.Faults.LedgerHttpWorkload(hosts.Clients, cluster.OnFirstNode);
            var outcome = await ledger.RunAsync(12, async workload =>
            {
                while (workload.Requests < 100) await Task.Delay(5);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (workload.Requests < 1_300) await Task.Delay(5);
                elapsed = clock.Elapsed;
            }, hotAccounts: 8);
            var figures = $"{layout}: {1_200 / elapsed.TotalSeconds:F0} transfers/s over HTTP (12 clients, 8 accounts); {outcome}";
            Monolith.Tests.Concurrency.Fixtures.RaceReport.Write(nameof(StrategyName.PessimisticRowLock), "Ledger throughput on Galera", figures);
            output.WriteLine(figures);
            Assert.Empty(outcome.Violations);
        }
    }
}
