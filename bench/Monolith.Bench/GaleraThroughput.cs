using System.Data.Common;
using System.Globalization;
using System.Text;
using Monolith.Lab;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Bench;

/// <summary>
/// The Ledger transfers over HTTP on the Galera cluster of ./dev cluster, through three Host processes under the
/// cluster profile, laid out two ways: all three bound to node 1, and one per node. The same load on both (wrk against
/// each Host at once, the same connections each), back to back per strategy, hot set and repetition, so that drift on
/// the machine falls on both layouts alike. After each cell, the money invariants through node 1.
/// </summary>
internal static class GaleraThroughput
{
    public const string Begin = "<!-- galera-throughput:begin -->";
    public const string End = "<!-- galera-throughput:end -->";

    static readonly (string Name, int[] Nodes)[] Layouts = [("one node", [1, 1, 1]), ("three nodes", [1, 2, 3])];

    public sealed record Cell(
        string Strategy, string Layout, int HotSet, int Connections, int Repetition, double Seconds, long Created, long Conflicts,
        double RequestsPerSecond, double WorstHostP99Ms, IReadOnlyList<string> Violations);

    public sealed record Run(DateTimeOffset At, string Machine, string Versions, double WarmupSeconds, double DurationSeconds, List<Cell> Cells);

    /// <summary>What the cluster profile accepts for the Ledger: not what it refuses, and not RedisLock, which needs fenced rows.</summary>
    public static IEnumerable<string> AcceptedStrategies() => StrategyDefinition.BuiltIn
        .Where(d => d.RefusedOnCluster is null && d.Name != nameof(StrategyName.RedisLock)).Select(d => d.Name);

    public static async Task<Run> RunAsync(string nodeOne, IReadOnlyList<string> strategies, int[] hotSets, int connectionsPerHost, int repetitions,
        TimeSpan warmup, TimeSpan duration)
    {
        if (DatabaseProvider.Current != DatabaseKind.MySql)
            throw new InvalidOperationException("The Galera cells need the MySql build: -p:Database=MySql.");
        var database = new LedgerScratch(nodeOne, "monolith_bench_galera");
        await database.CreateAsync(hotSets.Max());
        var cells = new List<Cell>();
        for (var repetition = 1; repetition <= repetitions; repetition++)
        foreach (var strategy in strategies)
        foreach (var (layout, nodes) in Layouts)
        {
            await using var hosts = new HostSet(await StartHostsAsync(database.ConnectionString, strategy, nodes));
            foreach (var hot in hotSets)
            {
                var accounts = database.Accounts.Take(hot).ToList();
                await Task.WhenAll(hosts.Select(h => HttpContention.WrkAsync(h.BaseAddress, accounts, connectionsPerHost, warmup, threads: 1)));
                var runs = await Task.WhenAll(hosts.Select(h => HttpContention.WrkAsync(h.BaseAddress, accounts, connectionsPerHost, duration, threads: 1)));
                var statuses = runs.SelectMany(r => r.Statuses).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Sum(s => s.Value));
                var violations = await CheckCaughtUpAsync(database);
                violations.AddRange(statuses.Where(s => s.Key is not (201 or 409)).Select(s => $"{s.Value} answers {s.Key}"));
                var created = statuses.GetValueOrDefault(201);
                var cell = new Cell(strategy, layout, hot, connectionsPerHost * hosts.Count, repetition, duration.TotalSeconds, created,
                    statuses.GetValueOrDefault(409), created / duration.TotalSeconds, runs.Max(r => r.P99Ms), violations);
                cells.Add(cell);
                Console.WriteLine($"Galera #{repetition} H={hot,-5} C={cell.Connections,-3} {strategy,-20} {layout,-12} {cell.RequestsPerSecond,6:F0} req/s  " +
                                  $"409 {cell.Conflicts,4}  worst p99 {cell.WorstHostP99Ms,7:F1} ms  {(violations.Count > 0 ? "FAILED: " + string.Join("; ", violations) : "invariants hold")}");
            }
        }
        var versions = await Machine.VersionsAsync(database);
        await database.DropAsync();
        return new Run(DateTimeOffset.UtcNow, Machine.Describe(), versions, warmup.TotalSeconds, duration.TotalSeconds, cells);
    }

    /// <summary>
    /// The first Host alone, since each Host migrates every module at start and migrations from three processes at
    /// once would race over the same tables; then the other two together.
    /// </summary>
    static async Task<List<HostProcess>> StartHostsAsync(string databaseConnectionString, string strategy, int[] nodes)
    {
        var hosts = new List<HostProcess>();
        try
        {
            hosts.Add(await HostProcess.StartAsync(Settings(databaseConnectionString, strategy, nodes[0])));
            hosts.AddRange(await Task.WhenAll(nodes.Skip(1).Select(node => HostProcess.StartAsync(Settings(databaseConnectionString, strategy, node)))));
            return hosts;
        }
        catch
        {
            foreach (var host in hosts) await host.DisposeAsync();
            throw;
        }
    }

    static Dictionary<string, string> Settings(string databaseConnectionString, string strategy, int node)
    {
        var onNode = new DbConnectionStringBuilder { ConnectionString = databaseConnectionString };
        onNode["Port"] = $"33{node}6";
        var settings = HttpContention.HostSettings(onNode.ConnectionString, strategy);
        settings[DatabaseProfiles.Key] = nameof(DatabaseProfile.GaleraCluster);
        return settings;
    }

    /// <summary>
    /// Node 1 may not have applied the other nodes' last commits when wrk's last answer arrives: a failing check is
    /// read again every 200 ms for up to 10 s. Only a read that had not caught up comes out clean later.
    /// </summary>
    static async Task<List<string>> CheckCaughtUpAsync(LedgerScratch database)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var violations = await database.CheckAsync();
            if (violations.Count == 0 || DateTime.UtcNow > deadline) return violations;
            await Task.Delay(200);
        }
    }

    /// <summary>The table for docs/scale-out.md: per strategy and hot set, the two layouts side by side, medians of the repetitions.</summary>
    public static string Markdown(Run run)
    {
        var md = new StringBuilder();
        var repetitions = run.Cells.Max(c => c.Repetition);
        var connections = run.Cells[0].Connections;
        md.AppendLine(CultureInfo.InvariantCulture, $"Generated by `./dev bench galera` on {run.At:yyyy-MM-dd}; do not edit by hand. {run.Machine}; {run.Versions}.");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Three Hosts, {connections} wrk connections in all ({connections / 3} per Host), transfers of 1.00 between random accounts of the hot set H, each with its own key; " +
            $"{run.DurationSeconds:F0} s per cell after {run.WarmupSeconds:F0} s of warm-up; the median of {repetitions} runs, the lowest and highest in brackets. " +
            $"409 is per 1,000 answers; p99 is the worst Host's.");
        md.AppendLine();
        md.AppendLine("| strategy | H | one node: transfers/s | three nodes: transfers/s | three / one | 409 ‰ one / three | p99 ms one / three | invariants |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var group in run.Cells.GroupBy(c => (c.Strategy, c.HotSet)))
        {
            var one = group.Where(c => c.Layout == Layouts[0].Name).ToList();
            var three = group.Where(c => c.Layout == Layouts[1].Name).ToList();
            static double Median(IEnumerable<double> values)
            {
                var sorted = values.Order().ToArray();
                return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            }
            static string Rate(List<Cell> cells) =>
                string.Create(CultureInfo.InvariantCulture, $"{Median(cells.Select(c => c.RequestsPerSecond)):F0} ({cells.Min(c => c.RequestsPerSecond):F0}-{cells.Max(c => c.RequestsPerSecond):F0})");
            static double PerMille(List<Cell> cells) => 1000.0 * cells.Sum(c => c.Conflicts) / Math.Max(1, cells.Sum(c => c.Conflicts + c.Created));
            var failed = group.Where(c => c.Violations.Count > 0).ToList();
            var invariants = failed.Count == 0 ? "hold" : $"FAILED in {failed.Count}: " + string.Join("; ", failed.SelectMany(c => c.Violations).Distinct());
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key.Strategy} | {group.Key.HotSet} | {Rate(one)} | {Rate(three)} | " +
                $"{Median(three.Select(c => c.RequestsPerSecond)) / Median(one.Select(c => c.RequestsPerSecond)):F2} | " +
                $"{PerMille(one):F1} / {PerMille(three):F1} | {Median(one.Select(c => c.WorstHostP99Ms)):F0} / {Median(three.Select(c => c.WorstHostP99Ms)):F0} | " +
                $"{invariants} |");
        }
        return md.ToString();
    }

    /// <summary>Replaces what lies between the markers in <paramref name="doc"/> with <paramref name="generated"/>.</summary>
    public static async Task WriteIntoAsync(string doc, string generated)
    {
        var text = await File.ReadAllTextAsync(doc);
        var (begin, end) = (text.IndexOf(Begin, StringComparison.Ordinal), text.IndexOf(End, StringComparison.Ordinal));
        if (begin < 0 || end < begin) throw new InvalidOperationException($"{doc} has no {Begin} ... {End} block.");
        await File.WriteAllTextAsync(doc, text[..(begin + Begin.Length)] + "\n" + generated + text[end..]);
    }

    sealed class HostSet(List<HostProcess> hosts) : List<HostProcess>(hosts), IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var host in this) await host.DisposeAsync();
        }
    }
}
