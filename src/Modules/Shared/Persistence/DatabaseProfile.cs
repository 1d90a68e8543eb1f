using Microsoft.Extensions.Configuration;

namespace Monolith.Shared.Persistence;

/// <summary>What the connection string points at, Database:Profile: one server (the default), or a node of a multi-primary cluster.</summary>
public enum DatabaseProfile
{
    SingleServer,

    /// <summary>
    /// A node of a MariaDB Galera cluster (the MySql build). Every node takes writes; row locks are local to the node
    /// that took them, and two transactions on different nodes conflict only over rows both wrote, at commit, where
    /// the loser fails certification with 1213 (docs/scale-out.md).
    /// </summary>
    GaleraCluster,
}

public static class DatabaseProfiles
{
    public const string Key = "Database:Profile";

    public static DatabaseProfile From(IConfiguration configuration)
    {
        var configured = configuration[Key];
        if (string.IsNullOrWhiteSpace(configured)) return DatabaseProfile.SingleServer;
        if (!Enum.TryParse<DatabaseProfile>(configured.Trim(), ignoreCase: true, out var profile) || !Enum.IsDefined(profile))
            throw new InvalidOperationException($"Unknown {Key} '{configured}'. Known profiles: {string.Join(", ", Enum.GetNames<DatabaseProfile>())}.");
        if (profile == DatabaseProfile.GaleraCluster && DatabaseProvider.Current != DatabaseKind.MySql)
            throw new InvalidOperationException($"{Key} {profile} needs the MySql build (-p:Database=MySql); this build targets {DatabaseProvider.Current}.");
        return profile;
    }

    /// <summary>
    /// Whether every row a unit claimed must be written, its version raised, changed or not: on a multi-primary cluster
    /// a claim's lock reaches no other node, and only a write meets a competing write at certification.
    /// </summary>
    public static bool WritesEveryClaimedRow(this DatabaseProfile profile) => profile == DatabaseProfile.GaleraCluster;

    /// <summary>
    /// Whether the write path sends one statement per round trip. When a replicated write aborts a local transaction on
    /// a Galera node (a brute-force abort), MariaDB rolls it back at once and reports it at the start of the client's
    /// next round trip, after which statements run in autocommit (tests/Cluster, BruteForceAbortTests): a statement
    /// behind another in one round trip could run after the rollback and commit on its own. With EF's batched
    /// SaveChanges, three Hosts on three nodes lost acknowledged transfers that way (docs/scale-out.md).
    /// </summary>
    public static bool OneStatementPerRoundTrip(this DatabaseProfile profile) => profile == DatabaseProfile.GaleraCluster;
}
