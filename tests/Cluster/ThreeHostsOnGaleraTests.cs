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
    [InlineData(nameof(StrategyName.SerializableRetry))]
    public async Task Three_Hosts_on_three_nodes_keep_the_ledger_and_portfolio_invariants(string strategy)
    {
        await using var hosts = await HostGroup.StartAsync(GaleraCluster.Nodes.Select(node => cluster.HostSettings(strategy, node)));
        ThreeHostsRaceTests.AssertHeld(strategy, "three Hosts over HTTP, one per Galera node", await ThreeHostsRaceTests.RaceAsync(hosts, cluster.OnFirstNode), output);
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
        ThreeHostsRaceTests.AssertHeld(nameof(StrategyName.PessimisticRowLock), "three Hosts on Galera, a node killed mid-race", race, output, figures);
        // The Host on the dead node had requests routed to it and answered them, with 503: the node's death was met.
        Assert.True(unavailableWhileDown > 0, figures);
        Assert.Equal("Synced", await GaleraCluster.StatusAsync(node, "wsrep_local_state_comment"));
    }
}
