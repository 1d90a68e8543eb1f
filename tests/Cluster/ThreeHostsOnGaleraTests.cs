using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.ScaleOut;
using Xunit.Abstractions;

namespace Monolith.Tests.Cluster;

/// <summary>
/// Three Host processes, each bound to its own Galera node under the cluster profile, racing the Ledger and Portfolio
/// HTTP workloads with the checks of ThreeHostsRaceTests, under every strategy the profile accepts; then the same with
/// a node killed (SIGKILL) mid-race and brought back, while its Host keeps answering.
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

    [Fact]
    public async Task A_node_killed_mid_race_loses_no_acknowledged_write_and_its_Host_answers_503_until_it_rejoins()
    {
        const int node = 3;
        await using var hosts = await HostGroup.StartAsync(GaleraCluster.Nodes.Select(n => cluster.HostSettings(nameof(StrategyName.PessimisticRowLock), n)));
        var rejoined = TimeSpan.Zero;
        var unavailableWhileDown = 0;
        var race = await ThreeHostsRaceTests.RaceAsync(hosts, cluster.OnFirstNode, async workload =>
        {
            while (workload.Requests < 300) await Task.Delay(20);
            await GaleraCluster.KillAsync(node);
            var killedAt = workload.Requests;
            var unavailableBefore = workload.Answered(503);
            while (workload.Requests < killedAt + 300) await Task.Delay(20);
            unavailableWhileDown = workload.Answered(503) - unavailableBefore;
            var started = System.Diagnostics.Stopwatch.StartNew();
            await GaleraCluster.StartAsync();
            rejoined = started.Elapsed;
            var back = workload.Requests;
            while (workload.Requests < back + 300) await Task.Delay(20);
        });

        var figures = $"node {node} killed after 300 ledger requests, back and synced after {rejoined.TotalSeconds:F0} s; {unavailableWhileDown} × 503 while it was down; ";
        ThreeHostsRaceTests.AssertHeld(nameof(StrategyName.PessimisticRowLock), "three Hosts on Galera, a node killed mid-race", hosts, race, output, figures);
        // The Host on the dead node had requests routed to it and answered them, with 503: the node's death was met.
        Assert.True(unavailableWhileDown > 0, figures);
        Assert.Equal("Synced", await GaleraCluster.StatusAsync(node, "wsrep_local_state_comment"));
    }
}
