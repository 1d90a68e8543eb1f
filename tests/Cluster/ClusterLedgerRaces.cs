using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Ledger;
using Xunit.Abstractions;

namespace Monolith.Tests.Cluster;

/// <summary>
/// The Ledger interleavings across two Galera nodes: each interleaving's first unit on node 1, its second on node 2.
/// Under the cluster profile, as the Host runs there; the anomaly matrix gets them as the setting "Galera". Write skew
/// over a row only read is not prevented by any (as on one server, only SerializableRetry promises it there).
/// </summary>
public abstract class GaleraLedgerRaces(ClusterDatabase cluster, ITestOutputHelper output)
    : LedgerInterleavings(output, (strategy, node) => cluster.Services(strategy, node, DatabaseProfile.GaleraCluster)), IClassFixture<ClusterDatabase>
{
    protected override string Setting => "Galera";

    // The other node's applier aborts a unit whose locks stand in its way, which may or may not catch it in time.
    protected override bool? RowsOnlyReadOutcome => null;
}

public sealed class GaleraPessimisticRowLockRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.PessimisticRowLock);
}

public sealed class GaleraOptimisticCasRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.OptimisticCas);
}

public sealed class GaleraHybridMvccRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.HybridMvcc);
}

public sealed class GaleraGapLockRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.GapLock);
}

/// <summary>
/// Refused on the cluster, and run here for the matrix (recorded, not promised): what it promises beyond the others on
/// one server, that write skew over a row a unit only read is caught, holds here only when the other node's applier
/// reaches the unit's shared lock before the unit commits. RefusedStrategyTests shows it failing.
/// </summary>
public sealed class GaleraSerializableRetryRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.SerializableRetry);
}

public sealed class GaleraSingleWriterRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.SingleWriter);
}

/// <summary>
/// The same scenarios with the single-server profile on the cluster: the strategies as they are written for one
/// server, which is what a user who points the Host at a Galera node without the profile gets. Recorded as the setting
/// "Galera, single-server profile".
/// </summary>
public abstract class GaleraAsSingleServerLedgerRaces(ClusterDatabase cluster, ITestOutputHelper output)
    : LedgerInterleavings(output, (strategy, node) => cluster.Services(strategy, node, DatabaseProfile.SingleServer)), IClassFixture<ClusterDatabase>
{
    protected override string Setting => "Galera-single-server-profile";
    protected override bool? WriteSkewOutcome => null;
    protected override bool? ReadSkewOutcome => null;
    protected override bool? RowsOnlyReadOutcome => null;
}

public sealed class GaleraAsSingleServerPessimisticRowLockRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraAsSingleServerLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.PessimisticRowLock);
}

public sealed class GaleraAsSingleServerOptimisticCasRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraAsSingleServerLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.OptimisticCas);
}

public sealed class GaleraAsSingleServerHybridMvccRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraAsSingleServerLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.HybridMvcc);
}

public sealed class GaleraAsSingleServerGapLockRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraAsSingleServerLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.GapLock);
}

public sealed class GaleraAsSingleServerSerializableRetryRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraAsSingleServerLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.SerializableRetry);
}

public sealed class GaleraAsSingleServerSingleWriterRaces(ClusterDatabase cluster, ITestOutputHelper output) : GaleraAsSingleServerLedgerRaces(cluster, output)
{
    protected override string Strategy => nameof(StrategyName.SingleWriter);
}
