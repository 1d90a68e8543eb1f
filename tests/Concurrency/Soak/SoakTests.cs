using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Ledger;
using Monolith.Tests.Concurrency.Portfolio;
using Monolith.Tests.Concurrency.Trading;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Soak;

/// <summary>
/// Runs only when MONOLITH_SOAK_MINUTES is set (./dev soak), so the README's test command skips it: a soak is
/// minutes to hours of load, not a regression check. MONOLITH_SOAK_OPERATIONS, when set, ends it earlier, once that
/// many operations have run, so a soak can be sized by the work done rather than by a guess at the machine's speed.
/// </summary>
public sealed class SoakFactAttribute : FactAttribute
{
    public const string Variable = "MONOLITH_SOAK_MINUTES";
    public const string OperationsVariable = "MONOLITH_SOAK_OPERATIONS";

    public SoakFactAttribute()
    {
        if (Minutes is null) Skip = $"a soak runs only with {Variable} set: ./dev soak [minutes]";
    }

    public static double? Minutes => double.TryParse(Environment.GetEnvironmentVariable(Variable), out var minutes) && minutes > 0 ? minutes : null;

    public static long Operations => long.TryParse(Environment.GetEnvironmentVariable(OperationsVariable), out var operations) && operations > 0 ? operations : long.MaxValue;
}

/// <summary>
/// The three modules' race workloads at once, round after round, each round under the next strategy of each module,
/// until the time is up or the operations are done; every round's invariants are checked as in the race suite. The figures per module and
/// strategy go to artifacts/soak-&lt;provider&gt;.txt.
/// </summary>
public sealed class SoakTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    static readonly string[] LedgerStrategies =
    [
        nameof(StrategyName.PessimisticRowLock), nameof(StrategyName.OptimisticCas), nameof(StrategyName.HybridMvcc),
        nameof(StrategyName.GapLock), nameof(StrategyName.SerializableRetry), nameof(StrategyName.SingleWriter),
    ];

    static readonly string[] TradingStrategies = [.. LedgerStrategies, nameof(StrategyName.RedisLock)];

    [SoakFact]
    public async Task Every_module_under_every_strategy_keeps_its_invariants_for_the_whole_soak()
    {
        var duration = TimeSpan.FromMinutes(SoakFactAttribute.Minutes!.Value);
        var operationsWanted = SoakFactAttribute.Operations;
        var tallies = new Dictionary<string, Tally>();
        var providers = new Dictionary<string, ServiceProvider>();
        var violations = new List<string>();
        var clock = Stopwatch.StartNew();
        try
        {
            for (var round = 0; clock.Elapsed < duration && tallies.Values.Sum(t => t.Operations) < operationsWanted; round++)
            {
                var strategy = LedgerStrategies[round % LedgerStrategies.Length];
                var results = await Task.WhenAll(
                    RunAsync("ledger", strategy, async services =>
                    {
                        var r = await new BankWorkload(services).RunAsync(new BankWorkloadOptions(Accounts: 64, Workers: 16, Readers: 1), seed: round);
                        return (r.Operations, r.GaveUp, r.Violations);
                    }),
                    RunAsync("portfolio", strategy, async services =>
                    {
                        var r = await new PortfolioWorkload(services).RunAsync(new PortfolioWorkloadOptions(Workers: 8), seed: round);
                        return (r.Operations, r.GaveUp, r.Violations);
                    }),
                    RunAsync("trading", TradingStrategies[round % TradingStrategies.Length], async services =>
                    {
                        var r = await new TradingWorkload(services).RunAsync(new TradingWorkloadOptions(Workers: 8), seed: round);
                        return (r.Operations, r.GaveUp, r.Violations);
                    }));
                foreach (var (key, operations, gaveUp, found) in results)
                {
                    var tally = tallies.TryGetValue(key, out var t) ? t : tallies[key] = new Tally();
                    tally.Add(operations, gaveUp, found.Count);
                    violations.AddRange(found.Take(5).Select(v => $"round {round}, {key}: {v}"));
                }
            }
        }
        finally
        {
            foreach (var services in providers.Values) await services.DisposeAsync();
        }

        var total = tallies.Values.Sum(t => t.Operations);
        var lines = tallies.OrderBy(t => t.Key).Select(t => $"{DatabaseProvider.Current,-10} {t.Key,-32} {t.Value}")
            .Append($"{DatabaseProvider.Current,-10} {total:N0} operations in {clock.Elapsed.TotalMinutes:F1} min " +
                $"({total / clock.Elapsed.TotalSeconds:N0} per second), {tallies.Values.Sum(t => t.Violations)} violations")
            .ToList();
        foreach (var line in lines)
        {
            RaceReport.Append($"soak-{DatabaseProvider.Current}.txt", line);
            output.WriteLine(line);
        }
        foreach (var violation in violations.Take(50)) output.WriteLine(violation);

        Assert.Empty(violations);
        Assert.True(total > 0, "the soak ran no operation");

        async Task<(string Key, int Operations, int GaveUp, IReadOnlyList<string> Violations)> RunAsync(
            string module, string strategy, Func<IServiceProvider, Task<(int Operations, int GaveUp, IReadOnlyList<string> Violations)>> workload)
        {
            var key = $"{module} under {strategy}";
            // Task.WhenAll's arguments start one after the other on this thread, so the dictionary is never shared.
            if (!providers.TryGetValue(key, out var services)) providers[key] = services = database.Services(strategy);
            var started = Stopwatch.StartNew();
            var (operations, gaveUp, found) = await workload(services);
            output.WriteLine($"{key}: {operations} in {started.Elapsed.TotalSeconds:F1} s");
            return (key, operations, gaveUp, found);
        }
    }

    sealed class Tally
    {
        public int Rounds { get; private set; }
        public long Operations { get; private set; }
        public long GaveUp { get; private set; }
        public long Violations { get; private set; }

        public void Add(int operations, int gaveUp, int violations)
        {
            Rounds++;
            Operations += operations;
            GaveUp += gaveUp;
            Violations += violations;
        }

        public override string ToString() => $"{Rounds} rounds, {Operations:N0} operations, {GaveUp:N0} gave up (409), {Violations} violations";
    }
}
