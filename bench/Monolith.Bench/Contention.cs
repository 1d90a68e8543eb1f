using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Lab;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Bench;

/// <summary>
/// The cells of a run: in process, every hot set with every worker count; over HTTP (<see cref="HttpContention"/>),
/// the HTTP hot sets with the HTTP worker counts; the Portfolio (<see cref="PortfolioContention"/>), its hot sets of
/// positions with its worker counts.
/// </summary>
public sealed record GridOptions(string Name, int[] HotSets, int[] Workers, TimeSpan Warmup, TimeSpan Duration, int[] HttpHotSets, int[] HttpWorkers,
    int[] PortfolioHotSets, int[] PortfolioWorkers)
{
    public static GridOptions Short => new("short", [2, 100, 10_000], [1, 16, 64], TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), [2, 10_000], [16, 64], [1, 1000], [16, 64]);
    public static GridOptions Full => new("full", [2, 100, 10_000], [1, 16, 64], TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(8), [2, 10_000], [16, 64], [1, 1000], [16, 64]);
    /// <summary>A few seconds, to see the harness work; not a measurement.</summary>
    public static GridOptions Smoke => new("smoke", [2, 100], [1, 4], TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), [2], [4], [1, 10], [4]);
    /// <summary>The cells issue 11 names (H = 2 and 10000, W = 16 and 64), for a quick look; not the committed report.</summary>
    public static GridOptions Probe => new("probe", [2, 10_000], [16, 64], TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), [2, 10_000], [16, 64], [1, 1000], [16, 64]);

    public static GridOptions Named(string name) => name switch
    {
        "full" => Full,
        "short" => Short,
        "smoke" => Smoke,
        "probe" => Probe,
        _ => throw new ArgumentException($"Unknown grid '{name}': short, full, probe or smoke."),
    };
}

/// <summary>One cell's figures: who ran, what committed, how fast, what it cost, and whether the money still adds up.</summary>
public sealed record CellResult(
    string Strategy, int HotSet, int Workers, double Seconds, long Committed, long GaveUp, long Reruns, long Deadlocks,
    long SerializationFailures, long LockTimeouts, double OpsPerSecond, double P50Ms, double P95Ms, double P99Ms, IReadOnlyList<string> Violations,
    long Batches = 0, long BatchedUnits = 0, int LargestBatch = 0, long Refused = 0)
{
    public bool Failed => Violations.Count > 0;
    public double RerunsPerCommit => Committed == 0 ? 0 : (double)Reruns / Committed;
    /// <summary>SingleWriter only: units per committed transaction.</summary>
    public double MeanBatchSize => Batches == 0 ? 0 : (double)BatchedUnits / Batches;
}

/// <summary>
/// W workers, each with its own connection, transfer 1.00 between random distinct accounts of the hot set for a fixed
/// time after a warm-up; then the money invariants are checked. The same loop drives the raw-SQL ceiling and the
/// full stack (MediatR, validation, strategy, EF).
/// </summary>
internal sealed class Contention(LedgerScratch database)
{
    public const string Ceiling = "RawSqlCeiling";

    /// <summary>The batched ceilings: one writer, this many transfers per transaction (<see cref="BatchedRawTransfer"/>).</summary>
    public static readonly int[] CeilingBatchSizes = [32, 128];
    public static string BatchedCeiling(int batchSize) => $"RawSqlBatch{batchSize}";
    static int BatchSizeOf(string cell) => cell.StartsWith("RawSqlBatch", StringComparison.Ordinal) ? int.Parse(cell["RawSqlBatch".Length..]) : 0;
    public static bool IsCeiling(string cell) => cell.StartsWith("RawSql", StringComparison.Ordinal);

    /// <summary>The ceilings every grid cell runs before the strategies: per transaction, then batched.</summary>
    public static IEnumerable<string> Ceilings => CeilingBatchSizes.Select(BatchedCeiling).Prepend(Ceiling);

    public Task<CellResult> RunCellAsync(string strategy, ServiceProvider? stack, int hotSet, int workers, GridOptions grid)
    {
        // A batched ceiling has one writer, as a SingleWriter partition has; the W workers stand for the clients it serves.
        var batchSize = BatchSizeOf(strategy);
        return MeasureAsync(strategy, hotSet, workers, batchSize > 0 ? 1 : workers, grid, stack?.GetRequiredService<ConcurrencyMetrics>(), database.CheckAsync,
            async (w, keepGoing, ended) =>
            {
                // The full stack runs the Ledger race as the lab runs it; the ceiling, the same transfer in plain SQL.
                var random = new Random(hotSet * 1000 + w);
                (Guid, Guid) Pair()
                {
                    var i = random.Next(hotSet);
                    return (database.Accounts[i], database.Accounts[(i + 1 + random.Next(hotSet - 1)) % hotSet]);
                }
                if (stack is not null)
                {
                    await database.RunWorkerAsync(stack, hotSet, w, keepGoing, ended, CancellationToken.None);
                    return 0;
                }
                if (batchSize > 0)
                {
                    await using var batched = await BatchedRawTransfer.OpenAsync(database, batchSize);
                    while (keepGoing())
                    {
                        var started = Stopwatch.GetTimestamp();
                        await batched.TransferAsync(Enumerable.Range(0, batchSize).Select(_ => Pair()).ToList(), 1m);
                        // Each transfer of the batch committed when the batch did.
                        for (var i = 0; i < batchSize; i++) ended(RaceOutcome.Committed, started);
                    }
                    return 0;
                }
                await using var raw = await RawTransfer.OpenAsync(database);
                while (keepGoing())
                {
                    var started = Stopwatch.GetTimestamp();
                    var (from, to) = Pair();
                    await raw.TransferAsync(from, to, 1m);
                    ended(RaceOutcome.Committed, started);
                }
                return raw.Retries;
            });
    }

    /// <summary>One worker of a cell: operations while <paramref name="keepGoing"/> says so, each reported to <paramref name="ended"/>; returns the conflicts it re-ran itself (a ceiling, which has no strategy to count them).</summary>
    public delegate Task<long> CellWorker(int worker, Func<bool> keepGoing, Action<RaceOutcome, long> ended);

    /// <summary>
    /// Runs <paramref name="running"/> workers for the grid's warm-up and duration and reports the cell as W =
    /// <paramref name="workers"/>: what committed after the warm-up and how fast, the conflicts <paramref name="metrics"/>
    /// counted meanwhile, and the violations <paramref name="check"/> finds afterwards.
    /// </summary>
    public static async Task<CellResult> MeasureAsync(string strategy, int hotSet, int workers, int running, GridOptions grid, ConcurrencyMetrics? metrics,
        Func<Task<List<string>>> check, CellWorker worker)
    {
        using var conflicts = metrics is null ? null : new ConflictCounter(metrics);
        var latencies = new ConcurrentBag<double[]>();
        long committed = 0, gaveUp = 0, refused = 0, rawRetries = 0;
        var started = Stopwatch.GetTimestamp();
        var measureFrom = started + (long)(grid.Warmup.TotalSeconds * Stopwatch.Frequency);
        var measureTo = measureFrom + (long)(grid.Duration.TotalSeconds * Stopwatch.Frequency);
        var warmedUp = new TaskCompletionSource();
        (long Total, long Deadlocks, long Serialization, long LockTimeouts, long Batches, long BatchedUnits) atStart = default;
        _ = Task.Delay(grid.Warmup).ContinueWith(_ => { atStart = conflicts?.Snapshot() ?? default; warmedUp.SetResult(); });

        await Task.WhenAll(Enumerable.Range(0, running).Select(w => Task.Run(async () =>
        {
            var mine = new List<double>(4096);
            void Ended(RaceOutcome outcome, long started)
            {
                if (started < measureFrom) return;
                if (outcome == RaceOutcome.Committed)
                {
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Increment(ref committed);
                }
                else if (outcome == RaceOutcome.GaveUp) Interlocked.Increment(ref gaveUp);
                else Interlocked.Increment(ref refused);
            }
            Interlocked.Add(ref rawRetries, await worker(w, () => Stopwatch.GetTimestamp() < measureTo, Ended));
            latencies.Add([.. mine]);
        })));
        await warmedUp.Task;
        var atEnd = conflicts?.Snapshot() ?? (rawRetries, 0, 0, 0, 0, 0);

        var sorted = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var seconds = grid.Duration.TotalSeconds;
        return new CellResult(strategy, hotSet, workers, seconds, committed, gaveUp,
            atEnd.Item1 - atStart.Total, atEnd.Item2 - atStart.Deadlocks, atEnd.Item3 - atStart.Serialization, atEnd.Item4 - atStart.LockTimeouts,
            committed / seconds, Percentile(0.50), Percentile(0.95), Percentile(0.99), await check(),
            atEnd.Item5 - atStart.Batches, atEnd.Item6 - atStart.BatchedUnits, conflicts?.LargestBatch ?? 0, refused);
    }

    /// <summary>Conflicts re-run by one service provider's strategies, by reason; and SingleWriter's committed batches.</summary>
    sealed class ConflictCounter : IDisposable
    {
        readonly IDisposable _listener;
        long _total, _deadlocks, _serialization, _lockTimeouts, _batches, _batchedUnits;
        int _largestBatch;

        public ConflictCounter(ConcurrencyMetrics metrics) =>
            _listener = metrics.Listen((instrument, measured, tags) =>
            {
                if (instrument == ConcurrencyMetrics.Instruments.BatchSize)
                {
                    var size = (int)measured;
                    Interlocked.Increment(ref _batches);
                    Interlocked.Add(ref _batchedUnits, size);
                    for (var largest = _largestBatch; size > largest; largest = _largestBatch)
                        if (Interlocked.CompareExchange(ref _largestBatch, size, largest) == largest) break;
                }
                if (instrument != ConcurrencyMetrics.Instruments.Conflicts) return;
                var value = (long)measured;
                Interlocked.Add(ref _total, value);
                switch (DatabaseProvider.ConflictKindOf(ConcurrencyMetrics.Tag(tags, "reason")))
                {
                    case ConflictKind.Deadlock: Interlocked.Add(ref _deadlocks, value); break;
                    case ConflictKind.Serialization: Interlocked.Add(ref _serialization, value); break;
                    case ConflictKind.LockTimeout: Interlocked.Add(ref _lockTimeouts, value); break;
                }
            });

        public int LargestBatch => _largestBatch;

        public (long Total, long Deadlocks, long Serialization, long LockTimeouts, long Batches, long BatchedUnits) Snapshot() =>
            (Interlocked.Read(ref _total), Interlocked.Read(ref _deadlocks), Interlocked.Read(ref _serialization), Interlocked.Read(ref _lockTimeouts),
             Interlocked.Read(ref _batches), Interlocked.Read(ref _batchedUnits));

        public void Dispose() => _listener.Dispose();
    }
}
