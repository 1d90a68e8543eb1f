using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;

using Monolith.Lab;

namespace Monolith.Bench;

/// <summary>
/// The contention cell over HTTP: the same transfers between random distinct accounts of the hot set, sent by wrk
/// (Debian's package) over W keep-alive connections to the real Host in a process of its own, each request with an
/// Idempotency-Key of its own, as every real client sends. A warm-up run, then the measured run; then the money
/// invariants. What the Host answers besides 201 is counted by status.
/// </summary>
internal sealed partial class HttpContention(LedgerScratch database, Uri host)
{
    public const string Suffix = " over HTTP";

    /// <summary>Per strategy, a Host process of its own on the bench database, and the grid's HTTP cells against it.</summary>
    public static async Task<List<CellResult>> RunGridAsync(LedgerScratch database, IEnumerable<string> strategies, GridOptions grid)
    {
        var cells = new List<CellResult>();
        foreach (var strategy in strategies)
        {
            await using var host = await HostProcess.StartAsync(HostSettings(database.ConnectionString, strategy));
            var http = new HttpContention(database, host.BaseAddress);
            // The smoke grid only shows the harness working; it does not wait for a steady Host.
            await http.WarmUntilSteadyAsync(strategy, grid.Name == GridOptions.Smoke.Name ? 3 : MaxWarmupSeconds);
            foreach (var hot in grid.HttpHotSets)
            foreach (var workers in grid.HttpWorkers)
            {
                await database.SettleAsync();
                var cell = await http.RunCellAsync(strategy + Suffix, hot, workers, grid);
                cells.Add(cell);
                Console.WriteLine($"{DatabaseProvider.Current,-10} H={hot,-5} W={workers,-3} {cell.Strategy,-30} {cell.OpsPerSecond,8:F0} req/s  p99 {cell.P99Ms,7:F1} ms  " +
                                  $"gave up {cell.GaveUp,4}  {(cell.Failed ? "FAILED: " + string.Join("; ", cell.Violations) : "invariants hold")}");
            }
        }
        return cells;
    }

    /// <summary>A Host process loaded by wrk: on <paramref name="connectionString"/>, writing through <paramref name="strategy"/>.</summary>
    public static Dictionary<string, string> HostSettings(string connectionString, string strategy) => new()
    {
        ["ConnectionStrings:Monolith"] = connectionString,
        ["Concurrency:Strategy"] = strategy,
        // The development signing key, which the bench's token is signed with; and no rate limit on the load.
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["RateLimiting:PermitsPerSecond"] = "1000000",
        ["RateLimiting:Burst"] = "1000000",
    };

    /// <summary>
    /// A new Host answers slowly until the JIT has tiered its hot paths up: a short grid's 1-s warm-up once measured
    /// 674 req/s in a cell that gave 1,710 at full length. On two busy cores that takes tens of seconds, and the rate
    /// climbs so unevenly that two seconds in a row can agree long before it is done. So each new process is loaded
    /// on the cold set, second by second, until the JIT itself is done: two seconds in a row in which it spent under
    /// <see cref="JitQuiet"/> compiling (its own count, on the Host's /metrics), at most <paramref name="maxSeconds"/>.
    /// </summary>
    internal async Task WarmUntilSteadyAsync(string strategy, int maxSeconds = MaxWarmupSeconds)
    {
        var accounts = database.Accounts;
        using var client = new HttpClient { BaseAddress = host };
        var seconds = new List<(double Rate, double JitMs)>();
        var jit = await JitSecondsAsync(client);
        var quiet = false;
        while (!quiet && seconds.Count < maxSeconds)
        {
            var second = await WrkAsync(host, accounts, connections: 16, TimeSpan.FromSeconds(1));
            var jitNow = await JitSecondsAsync(client);
            seconds.Add((second.Statuses.GetValueOrDefault(201), (jitNow - jit) * 1000));
            jit = jitNow;
            quiet = seconds.Count >= 2 && seconds[^2..].All(s => s.JitMs < JitQuiet.TotalMilliseconds);
        }
        await database.SettleAsync();
        Console.WriteLine($"{DatabaseProvider.Current,-10} {strategy + Suffix}: a new Host, warmed {seconds.Count} s {(quiet ? "until the JIT was quiet" : "with the JIT still compiling")} (req/s, ms compiling): " +
                          string.Join(", ", seconds.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Rate:F0}/{s.JitMs:F0}"))));
    }

    static readonly TimeSpan JitQuiet = TimeSpan.FromMilliseconds(10);
    internal const int MaxWarmupSeconds = 90;

    /// <summary>The seconds the Host's JIT has spent compiling since it started (the runtime's own counter).</summary>
    internal static async Task<double> JitSecondsAsync(HttpClient client) =>
        MetricValue(await client.GetStringAsync("/metrics"), "dotnet_jit_compilation_time_seconds_total");

    /// <summary>One counter's value in a Prometheus scrape.</summary>
    internal static double MetricValue(string scrape, string name) =>
        Regex.Match(scrape, $@"^{Regex.Escape(name)}(?:\{{[^}}]*\}})? (\S+)", RegexOptions.Multiline) is { Success: true } match
            ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"The Host's /metrics carries no {name}.");

    public async Task<CellResult> RunCellAsync(string strategy, int hotSet, int workers, GridOptions grid)
    {
        var accounts = database.Accounts.Take(hotSet).ToList();
        await WrkAsync(host, accounts, workers, grid.Warmup);
        var run = await WrkAsync(host, accounts, workers, grid.Duration);
        var seconds = grid.Duration.TotalSeconds;
        var created = run.Statuses.GetValueOrDefault(201);
        var gaveUp = run.Statuses.GetValueOrDefault(409);
        var violations = await database.CheckAsync();
        violations.AddRange(run.Statuses.Where(s => s.Key is not (201 or 409)).Select(s => $"{s.Value} answers {s.Key}"));
        return new CellResult(strategy, hotSet, workers, seconds, created, gaveUp, Reruns: 0, Deadlocks: 0, SerializationFailures: 0, LockTimeouts: 0,
            created / seconds, run.P50Ms, run.P95Ms, run.P99Ms, violations);
    }

    public sealed record WrkRun(Dictionary<int, long> Statuses, double P50Ms, double P95Ms, double P99Ms);

    /// <summary>
    /// wrk against <paramref name="host"/>'s transfers of <paramref name="amount"/> for <paramref name="duration"/>, with
    /// keys no other run shares. An amount of 0 is refused by the validator (400) before any database work.
    /// </summary>
    public static async Task<WrkRun> WrkAsync(Uri host, IEnumerable<Guid> accounts, int connections, TimeSpan duration, int threads = 2, int amount = 1)
    {
        var script = Path.Combine(Path.GetTempPath(), $"monolith-transfers-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, Script(accounts, amount));
        try
        {
            return await WrkAsync(host, script, connections, duration, threads);
        }
        finally
        {
            File.Delete(script);
        }
    }

    static async Task<WrkRun> WrkAsync(Uri host, string script, int connections, TimeSpan duration, int threads)
    {
        var start = new ProcessStartInfo("wrk")
        {
            // By default two threads, the machine's cores; wrk needs at least as many connections as threads.
            ArgumentList =
            {
                "-t", Math.Min(threads, connections).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{Math.Max(1, (int)Math.Ceiling(duration.TotalSeconds))}s", "--timeout", "30s", "-s", script,
                new Uri(host, "/api/ledger/transfers").ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var wrk = Process.Start(start)!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        var errors = await wrk.StandardError.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        if (wrk.ExitCode != 0) throw new InvalidOperationException($"wrk exited {wrk.ExitCode}: {errors}{output}");

        var statuses = StatusLine().Matches(output).ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
            m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        // Socket errors (connect, read, write, timeout) are answers that never came: the Host must give none.
        if (SocketErrors().Match(output) is { Success: true } socket) statuses[0] = socket.Groups.Cast<Group>().Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture));
        double Percentile(string p) => double.Parse(Regex.Match(output, $@"^latency p{p} (\d+)$", RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture) / 1000;
        return new WrkRun(statuses, Percentile("50"), Percentile("95"), Percentile("99"));
    }

    /// <summary>Whether wrk is on the PATH; when it is not and <paramref name="warnIfNot"/>, one line says so and how to get it.</summary>
    public static bool WrkIsInstalled(bool warnIfNot)
    {
        var installed = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, "wrk")));
        if (!installed && warnIfNot)
            Console.Error.WriteLine("wrk is not installed, so the cells over HTTP are skipped: apt-get install wrk (./dev bench installs it).");
        return installed;
    }

    /// <summary>
    /// wrk's Lua: each thread draws its own pairs and numbers its own keys under the script's own prefix (several wrk
    /// processes may start in the same second, and Lua's generator is not seeded before init); each counts its
    /// answers by status, and done() prints the totals and the latency percentiles (microseconds) in lines the bench parses.
    /// </summary>
    static string Script(IEnumerable<Guid> accounts, int amount)
    {
        static string Token() => Monolith.Host.AccessTokens.Mint(
            Monolith.Host.AccessTokenOptions.Development(Path.Combine(HostProcess.RepositoryRoot(), "src", "Host")), LedgerScratch.Owner.Subject);
        var ids = new StringBuilder();
        foreach (var id in accounts) ids.Append('"').Append(id).Append("\",");
        return $$"""
            local accounts = { {{ids}} }
            local threads = {}
            function setup(thread)
              table.insert(threads, thread)
              thread:set("tid", #threads)
            end
            function init(args)
              statuses = {}
              counter = 0
              prefix = string.format("{{Guid.NewGuid():N}}-%d", tid)
              math.randomseed({{Random.Shared.Next(1_000_000)}} * 100 + tid)
            end
            function request()
              counter = counter + 1
              local a = math.random(#accounts)
              local b = math.random(#accounts - 1)
              if b >= a then b = b + 1 end
              local body = '{"fromAccountId":"' .. accounts[a] .. '","toAccountId":"' .. accounts[b] .. '","amount":{{amount}}}'
              return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer {{Token()}}", ["Idempotency-Key"] = prefix .. "-" .. counter }, body)
            end
            function response(status, headers, body)
              statuses[status] = (statuses[status] or 0) + 1
            end
            function done(summary, latency, requests)
              local total = {}
              for _, thread in ipairs(threads) do
                for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
              end
              for status, count in pairs(total) do io.write(string.format("status %d %d\n", status, count)) end
              for _, p in ipairs({ 50, 95, 99 }) do io.write(string.format("latency p%d %d\n", p, latency:percentile(p))) end
            end
            """;
    }

    [GeneratedRegex(@"^status (\d+) (\d+)$", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
