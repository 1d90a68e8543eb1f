using Monolith.Lab;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Bench;

/// <summary>
/// The Portfolio's cells: the lab's Portfolio race (RecordTransaction, one in four backdated) on one hot position and
/// on many, per strategy, against its own raw-SQL ceiling (<see cref="RawTrade"/>) on the same trades. Each strategy
/// gets a freshly seeded database per hot set; its cells run one after another on it, and the race suite's Portfolio
/// invariants are checked after each.
/// </summary>
internal static class PortfolioContention
{
    const string DatabaseName = "monolith_bench_portfolio";

    public static async Task<List<CellResult>> RunGridAsync(IReadOnlyList<string> strategies, GridOptions grid, Action<CellResult> print)
    {
        var server = Environment.GetEnvironmentVariable("ConnectionStrings__Monolith") ?? DatabaseProvider.DefaultConnectionString;
        var workload = new PortfolioTradeRace();
        var cells = new List<CellResult>();
        foreach (var hot in grid.PortfolioHotSets)
        foreach (var strategy in strategies.Where(workload.Strategies.Contains).Prepend(Contention.Ceiling))
        {
            var isCeiling = strategy == Contention.Ceiling;
            // The ceiling's database is seeded through a strategy too; it then writes on the driver alone.
            await using var arena = (PortfolioTradeRace.Arena)await workload.PrepareAsync(server, DatabaseName,
                isCeiling ? nameof(StrategyName.PessimisticRowLock) : strategy, DatabaseProfile.SingleServer, null, hot, CancellationToken.None);
            async Task<List<string>> Violations() => [.. (await arena.CheckAsync(CancellationToken.None)).Where(c => !c.Held).Select(c => c.Violation)];
            foreach (var workers in grid.PortfolioWorkers)
            {
                var cell = await Contention.MeasureAsync(strategy, hot, workers, workers, grid, isCeiling ? null : arena.Metrics, Violations,
                    isCeiling
                        ? async (w, keepGoing, ended) =>
                        {
                            var random = new Random(hot * 1000 + w);
                            await using var raw = await RawTrade.OpenAsync(RaceStack.OnDatabase(server, DatabaseName));
                            while (keepGoing())
                            {
                                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                                ended(await raw.RecordAsync(arena.NextTrade(random)), started);
                            }
                            return raw.Retries;
                        }
                        : async (w, keepGoing, ended) =>
                        {
                            await arena.RunWorkerAsync(w, keepGoing, ended, CancellationToken.None);
                            return 0;
                        });
                cells.Add(cell);
                print(cell);
            }
        }
        return cells;
    }
}
