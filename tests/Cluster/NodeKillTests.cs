using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.ScaleOut;
using Xunit.Abstractions;

namespace Monolith.Tests.Cluster;

/// <summary>
/// The scenarios that kill a node. A killed node stalls every other node's commits until the cluster evicts it (about
/// 5 s, evs.suspect_timeout; measured in docs/scale-out.md), and a node that rejoins has a donor send it what it missed:
/// a class racing beside them met command timeouts it had not caused. So they run in a collection of their own, which
/// xunit runs alone, after the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeKills
{
    public const string Name = "Galera node kills";
}

[Collection(NodeKills.Name)]
public sealed class NodeKillTests(ClusterDatabase cluster, ITestOutputHelper output) : IClassFixture<ClusterDatabase>
{
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
