using System.Runtime.InteropServices;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Bench;
using Monolith.Lab;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

// dotnet run --project bench/Monolith.Bench -c Release -p:Database=<provider> -- contention|cost|profile|requests|report|matrix|galera [options]; ./dev bench drives it.
var mode = args.FirstOrDefault() ?? "contention";
string Option(string name, string fallback) => args.SkipWhile(a => a != $"--{name}").Skip(1).FirstOrDefault() ?? fallback;
var json = new JsonSerializerOptions { WriteIndented = true };

switch (mode)
{
    case "contention":
    {
        var grid = GridOptions.Named(Option("grid", "short"));
        var output = Option("out", $"artifacts/bench/{DatabaseProvider.Current}.json");
        // Told before the first cell, not after the in-process ones: without wrk the HTTP cells are skipped.
        // --http off leaves the HTTP cells out, for a quick look at the write path alone.
        var overHttp = grid.HttpHotSets.Length > 0 && Option("http", "on") != "off" && HttpContention.WrkIsInstalled(warnIfNot: true);
        var database = new LedgerScratch();
        await database.CreateAsync(grid.HotSets.Max());
        // RedisLock needs fenced rows, which Ledger accounts are not; --strategies A,B runs a subset (with the ceiling) to look at a few.
        var strategies = Option("strategies", string.Join(',', Enum.GetNames<StrategyName>().Where(s => s != nameof(StrategyName.RedisLock))))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var stacks = strategies.ToDictionary(s => s, s => database.Services(s));
        var contention = new Contention(database);
        // First runs compile EF's model and queries and fill the pools; no cell should pay for that.
        foreach (var stack in stacks.Values)
        {
            await using var scope = stack.CreateAsyncScope();
            var mediator = scope.ServiceProvider.GetRequiredService<MediatR.IMediator>();
            for (var i = 0; i < 20; i++)
                await mediator.Send(new Monolith.Ledger.Features.Transfer(LedgerScratch.Owner, database.Accounts[i % 2], database.Accounts[1 - i % 2], 1m, Guid.NewGuid().ToString()));
        }
        var cells = new List<CellResult>();
        foreach (var hot in grid.HotSets)
        foreach (var workers in grid.Workers)
        foreach (var strategy in Contention.Ceilings.Concat(strategies))
        {
            await database.SettleAsync();
            var cell = await contention.RunCellAsync(strategy, Contention.IsCeiling(strategy) ? null : stacks[strategy], hot, workers, grid);
            cells.Add(cell);
            Print(cell);
            // SingleWriter's own physical limit: the batched ceiling at the mean batch it reached in this cell.
            if (cell.MeanBatchSize >= 2 && (int)Math.Round(cell.MeanBatchSize) is var mean && !Contention.CeilingBatchSizes.Contains(mean))
            {
                await database.SettleAsync();
                var ceiling = await contention.RunCellAsync(Contention.BatchedCeiling(mean), null, hot, workers, grid);
                cells.Add(ceiling);
                Print(ceiling);
            }
        }
        static void Print(CellResult cell) =>
            Console.WriteLine($"{DatabaseProvider.Current,-10} H={cell.HotSet,-5} W={cell.Workers,-3} {cell.Strategy,-20} {cell.OpsPerSecond,8:F0} ops/s  p99 {cell.P99Ms,7:F1} ms  " +
                              $"re-runs/op {cell.RerunsPerCommit,5:F2}  gave up {cell.GaveUp,4}  {(cell.Refused > 0 ? $"refused {cell.Refused,4}  " : "")}{(cell.Batches > 0 ? $"batch {cell.MeanBatchSize,6:F1}  " : "")}{(cell.Failed ? "INVARIANTS FAILED: " + string.Join("; ", cell.Violations) : "invariants hold")}");
        foreach (var stack in stacks.Values) await stack.DisposeAsync();
        // --portfolio off leaves the Portfolio's cells out.
        var portfolio = Option("portfolio", "on") == "off" ? [] : await PortfolioContention.RunGridAsync(strategies, grid, Print);
        if (overHttp) cells.AddRange(await HttpContention.RunGridAsync(database, strategies, grid));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        var run = new ProviderRun(DatabaseProvider.Current.ToString(), grid.Name, DateTimeOffset.UtcNow, Machine.Describe(), await Machine.VersionsAsync(database), grid.Warmup.TotalSeconds, grid.Duration.TotalSeconds, cells, portfolio);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(run, json));
        Console.WriteLine($"wrote {output}");
        return cells.Concat(portfolio).Any(c => c.Failed) ? 1 : 0;
    }
    case "cost":
    {
        var output = Path.GetFullPath(Option("out", $"artifacts/bench/cost-{DatabaseProvider.Current}"));
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .AddExporter(MarkdownExporter.GitHub)
            .WithArtifactsPath(output);
        BenchmarkRunner.Run<TransferCost>(config);
        return 0;
    }
    case "profile":
    {
        var strategies = Option("strategies", string.Join(',', Enum.GetNames<StrategyName>().Where(s => s != nameof(StrategyName.RedisLock))))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        await Profile.RunAsync(strategies, int.Parse(Option("transfers", "2000")), args.Contains("--allocations"), args.Contains("--stages"));
        return 0;
    }
    case "requests":
    {
        if (!HttpContention.WrkIsInstalled(warnIfNot: true)) return 2;
        foreach (var m in await RequestCost.RunAsync(Option("strategy", nameof(StrategyName.PessimisticRowLock)), int.Parse(Option("connections", "16")),
                     TimeSpan.FromSeconds(double.Parse(Option("seconds", "8"))), args.Contains("--committed-only")))
            Console.WriteLine($"{DatabaseProvider.Current,-10} {m.Request,-26} {m.Status}  {m.RequestsPerSecond,7:F0} req/s  {m.CpuMicrosecondsPerRequest,6:F0} µs CPU  {m.KilobytesPerRequest,6:F1} KB per request (the Host's)");
        return 0;
    }
    case "galera":
    {
        // The MySql build against ./dev cluster: the Ledger over HTTP through one node and through three (docs/scale-out.md).
        if (!HttpContention.WrkIsInstalled(warnIfNot: true)) return 2;
        var strategies = Option("strategies", string.Join(',', GaleraThroughput.AcceptedStrategies()))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var hotSets = Option("hot", "8,10000").Split(',').Select(int.Parse).ToArray();
        var run = await GaleraThroughput.RunAsync(
            Option("server", "Server=127.0.0.1;Port=3316;User ID=monolith;Password=monolith;SslMode=None;Maximum Pool Size=200"),
            strategies, hotSets, int.Parse(Option("connections-per-host", "4")), int.Parse(Option("repetitions", "3")),
            TimeSpan.FromSeconds(double.Parse(Option("warmup", "2"))), TimeSpan.FromSeconds(double.Parse(Option("seconds", "8"))));
        var output = Option("out", "artifacts/bench/galera.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(run, json));
        var table = GaleraThroughput.Markdown(run);
        Console.WriteLine(table);
        if (Option("doc", "") is { Length: > 0 } doc) await GaleraThroughput.WriteIntoAsync(doc, table);
        return run.Cells.Any(c => c.Violations.Count > 0) ? 1 : 0;
    }
    case "matrix":
    {
        var settings = Option("settings", string.Join(',', Monolith.Bench.AnomalyMatrix.Providers)).Split(',');
        Console.WriteLine(await Monolith.Bench.AnomalyMatrix.WriteAsync(Option("in", "artifacts"), Option("doc", "docs/strategies.md"), settings));
        return 0;
    }
    case "report":
    {
        var input = Option("in", "artifacts/bench");
        var docs = Option("docs", "docs");
        var runs = Directory.EnumerateFiles(input, "*.json").Order()
            .Select(f => JsonSerializer.Deserialize<ProviderRun>(File.ReadAllText(f))!).ToList();
        var costs = runs.ToDictionary(r => r.Provider, r =>
        {
            var dir = Path.Combine(input, $"cost-{r.Provider}", "results");
            var file = Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*-report-github.md").FirstOrDefault() : null;
            return file is null ? null : File.ReadAllText(file);
        });
        await Report.WriteAsync(runs, costs, docs);
        Console.WriteLine($"wrote {Path.Combine(docs, "benchmarks.md")}");
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: contention [--grid short|full|probe|smoke] [--strategies A,B] [--http off] [--portfolio off] [--out file.json] | cost [--out dir] | requests [--strategy S] [--connections N] [--seconds S] [--committed-only] | profile [--strategies A,B] [--transfers N] [--allocations] [--stages] | report [--in dir] [--docs dir] | galera [--strategies A,B] [--hot 8,10000] [--connections-per-host N] [--repetitions N] [--seconds S] [--doc docs/scale-out.md] (MySql build)");
        return 2;
}

public sealed record ProviderRun(
    string Provider, string Grid, DateTimeOffset At, string Machine, string Versions, double WarmupSeconds, double DurationSeconds, List<CellResult> Cells,
    List<CellResult>? PortfolioCells = null);

internal static class Machine
{
    public static string Describe()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{Environment.ProcessorCount} logical CPUs ({cpu ?? "unknown CPU"}), {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    public static async Task<string> VersionsAsync(LedgerScratch database)
    {
        await using var connection = database.Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version()";
        var server = (await command.ExecuteScalarAsync())?.ToString()?.Split(" on ")[0];
        // The informational version: MySqlConnector keeps its assembly version at 2.0.0 for every 2.x release.
        static string Version(Type type) =>
            (type.Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?").Split('+')[0];
        return $"server {server}; EF Core {Version(typeof(Microsoft.EntityFrameworkCore.DbContext))}; driver {connection.GetType().Assembly.GetName().Name} {Version(connection.GetType())}";
    }
}
