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
/// the HTTP hot sets with the HTTP worker counts.
/// </summary>
public sealed record GridOptions(string Name, int[] HotSets, int[] Workers, TimeSpan Warmup, TimeSpan Duration, int[] HttpHotSets, int[] HttpWorkers)
{
    public static GridOptions Short => new("short", [2, 100, 10_000], [1, 16, 64], TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), [2, 10_000], [16, 64]);
    public static GridOptions Full => new("full", [2, 100, 10_000], [1, 16, 64], TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(8), [2, 10_000], [16, 64]);
    /// <summary>A few seconds, to see the harness work; not a measurement.</summary>
    public static GridOptions Smoke => new("smoke", [2, 100], [1, 4], TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), [2], [4]);
    /// <summary>The cells issue 11 names (H = 2 and 10000, W = 16 and 64), for a quick look; not the committed report.</summary>
    public static GridOptions Probe => new("probe", [2, 10_000], [16, 64], TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), [2, 10_000], [16, 64]);

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
    long Batches = 0, long BatchedUnits = 0, int LargestBatch = 0)
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

    public async Task<CellResult> RunCellAsync(string strategy, ServiceProvider? stack, int hotSet, int workers, GridOptions grid)
    {
        using var conflicts = stack is null ? null : new ConflictCounter(stack.GetRequiredService<ConcurrencyMetrics>());
        var latencies = new ConcurrentBag<double[]>();
        long committed = 0, gaveUp = 0, rawRetries = 0;
        var started = Stopwatch.GetTimestamp();
        var measureFrom = started + (long)(grid.Warmup.TotalSeconds * Stopwatch.Frequency);
        var measureTo = measureFrom + (long)(grid.Duration.TotalSeconds * Stopwatch.Frequency);
        var warmedUp = new TaskCompletionSource();
        (long Total, long Deadlocks, long Serialization, long LockTimeouts, long Batches, long BatchedUnits) atStart = default;
        _ = Task.Delay(grid.Warmup).ContinueWith(_ => { atStart = conflicts?.Snapshot() ?? default; warmedUp.SetResult(); });

        // A batched ceiling has one writer, as a SingleWriter partition has; the W workers stand for the clients it serves.
        var batchSize = BatchSizeOf(strategy);
        await Task.WhenAll(Enumerable.Range(0, batchSize > 0 ? 1 : workers).Select(w => Task.Run(async () =>
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
            }
            bool KeepGoing() => Stopwatch.GetTimestamp() < measureTo;

            // The full stack runs the Ledger race as the lab runs it; the ceiling, the same transfer in plain SQL.
            if (stack is not null) await database.RunWorkerAsync(stack, hotSet, w, KeepGoing, Ended, CancellationToken.None);
            else if (batchSize > 0)
            {
                var random = new Random(hotSet * 1000 + w);
                await using var raw = await BatchedRawTransfer.OpenAsync(database, batchSize);
                while (KeepGoing())
                {
                    var started = Stopwatch.GetTimestamp();
                    var batch = Enumerable.Range(0, batchSize).Select(_ =>
                    {
                        var i = random.Next(hotSet);
                        return (database.Accounts[i], database.Accounts[(i + 1 + random.Next(hotSet - 1)) % hotSet]);
                    }).ToList();
                    await raw.TransferAsync(batch, 1m);
                    // Each transfer of the batch committed when the batch did.
                    for (var i = 0; i < batchSize; i++) Ended(RaceOutcome.Committed, started);
                }
            }
            else
            {
                var random = new Random(hotSet * 1000 + w);
                await using var raw = await RawTransfer.OpenAsync(database);
                while (KeepGoing())
                {
                    var started = Stopwatch.GetTimestamp();
                    var i = random.Next(hotSet);
                    await raw.TransferAsync(database.Accounts[i], database.Accounts[(i + 1 + random.Next(hotSet - 1)) % hotSet], 1m);
                    Ended(RaceOutcome.Committed, started);
                }
                Interlocked.Add(ref rawRetries, raw.Retries);
            }
            latencies.Add([.. mine]);
        })));
        await warmedUp.Task;
        var atEnd = conflicts?.Snapshot() ?? (rawRetries, 0, 0, 0, 0, 0);

        var sorted = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var seconds = grid.Duration.TotalSeconds;
        return new CellResult(strategy, hotSet, workers, seconds, committed, gaveUp,
            atEnd.Item1 - atStart.Total, atEnd.Item2 - atStart.Deadlocks, atEnd.Item3 - atStart.Serialization, atEnd.Item4 - atStart.LockTimeouts,
            committed / seconds, Percentile(0.50), Percentile(0.95), Percentile(0.99), await database.CheckAsync(),
            atEnd.Item5 - atStart.Batches, atEnd.Item6 - atStart.BatchedUnits, conflicts?.LargestBatch ?? 0);
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
