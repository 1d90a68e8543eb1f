using System.Data.Common;
using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Tests.Concurrency.Ledger;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Cluster;

/// <summary>
/// The three-node cluster that ./dev cluster runs on 127.0.0.1 (node N on port 33N6), and the script's own commands
/// for the fault tests: kill a node (SIGKILL) and bring it back.
/// </summary>
internal static class GaleraCluster
{
    public static readonly int[] Nodes = [1, 2, 3];

    public static string ServerConnectionString(int node) =>
        $"Server=127.0.0.1;Port=33{node}6;Database=monolith;User ID=monolith;Password=monolith;SslMode=None;Maximum Pool Size=200";

    /// <summary>The connection string of <paramref name="databaseConnectionString"/>'s database on <paramref name="node"/>.</summary>
    public static string OnNode(string databaseConnectionString, int node)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = databaseConnectionString };
        builder["Port"] = $"33{node}6";
        return builder.ConnectionString;
    }

    /// <summary>Fails with what to do when the cluster is not up and synced, instead of timing out test by test.</summary>
    public static async Task EnsureSyncedAsync()
    {
        foreach (var node in Nodes)
        {
            string? state;
            try { state = await StatusAsync(node, "wsrep_local_state_comment"); }
            catch (DbException e) { throw new InvalidOperationException($"Galera node {node} (127.0.0.1:33{node}6) does not answer: run ./dev cluster. ({e.Message})", e); }
            if (state != "Synced") throw new InvalidOperationException($"Galera node {node} is {state}, not Synced: run ./dev cluster.");
        }
    }

    public static async Task<string?> StatusAsync(int node, string variable)
    {
        await using var connection = DatabaseProvider.Connect(ServerConnectionString(node));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SHOW STATUS LIKE '{variable}'";
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? reader.GetString(1) : null;
    }

    /// <summary>Deposits on accounts of their own: every node applies them, between the scenario's statements.</summary>
    public static async Task KeepAppliersBusyAsync(ServiceProvider services, CancellationToken stop)
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

    /// <summary>./dev cluster kill N: SIGKILL, as a crash.</summary>
    public static Task KillAsync(int node) => DevAsync("cluster", "kill", node.ToString());

    /// <summary>./dev cluster: starts the nodes that are down; they rejoin and sync (state transfer) before it returns.</summary>
    public static Task StartAsync() => DevAsync("cluster");

    static async Task DevAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = HostProcess.RepositoryRoot(), RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("dev");
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"./dev {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await output}\n{await errors}");
    }
}

/// <summary>A database of its own on the cluster for one test class: created and migrated through node 1, reachable through every node.</summary>
public sealed class ClusterDatabase : IAsyncLifetime
{
    readonly TestDatabase _database = new(GaleraCluster.ServerConnectionString(1));

    public string Name => _database.Name;

    /// <summary>The database as node 1 serves it, for the workloads' checks after a race.</summary>
    internal TestDatabase OnFirstNode => _database;

    public string ConnectionString(int node) => GaleraCluster.OnNode(_database.ConnectionString, node);

    public async Task InitializeAsync()
    {
        await GaleraCluster.EnsureSyncedAsync();
        await _database.InitializeAsync();
    }

    public Task DisposeAsync() => _database.DisposeAsync();

    /// <summary>
    /// The modules with <paramref name="strategy"/>, bound to <paramref name="node"/>, under <paramref name="profile"/>:
    /// <see cref="DatabaseProfile.GaleraCluster"/> as the Host runs there, or <see cref="DatabaseProfile.SingleServer"/>
    /// to see what the single-server strategies do on a cluster. Refused strategies run (the suite's switch), to be measured.
    /// </summary>
    public Microsoft.Extensions.DependencyInjection.ServiceProvider Services(string strategy, int node, DatabaseProfile profile) =>
        _database.Services(strategy, settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:Monolith"] = ConnectionString(node),
            [DatabaseProfiles.Key] = profile.ToString(),
            ["Concurrency:RunRefusedStrategy"] = "true",
        });

    /// <summary>The settings of a Host process bound to <paramref name="node"/>.</summary>
    public Dictionary<string, string> HostSettings(string strategy, int node, DatabaseProfile profile = DatabaseProfile.GaleraCluster, bool runRefused = false) => new()
    {
        ["ConnectionStrings:Monolith"] = ConnectionString(node),
        [DatabaseProfiles.Key] = profile.ToString(),
        ["Concurrency:Strategy"] = strategy,
        ["Concurrency:RunRefusedStrategy"] = runRefused ? "true" : "false",
    };
}
