using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using Monolith.Shared.Concurrency;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Persistence;

namespace Monolith.Lab;

public enum LabRunState { Preparing, Running, Checking, Ended, Failed }

/// <summary>A run as the page and the API see it: its settings, its state, and one lane per strategy.</summary>
public sealed record LabRunView(Guid Id, string Workload, int HotSet, int Workers, int DurationSeconds, LabRunState State,
    double ElapsedSeconds, string? Error, IReadOnlyList<LabLaneView> Lanes)
{
    public bool Ended => State is LabRunState.Ended or LabRunState.Failed;
}

/// <summary>
/// One strategy's race: a point per second, its totals, and after the run its invariants (passed when every one held).
/// </summary>
public sealed record LabLaneView(string Strategy, IReadOnlyList<LabPoint> Points, LabTotals Totals, IReadOnlyList<InvariantCheck>? Invariants)
{
    public bool? Passed => Invariants?.All(i => i.Held);
}

/// <summary>
/// One second of a lane: operations committed per second, the latency of those it committed (median and 99th
/// percentile, ms), re-runs per committed operation, operations that gave up (409) and the mean lock wait per attempt (ms).
/// </summary>
public sealed record LabPoint(double Second, double Throughput, double P50Ms, double P99Ms, double RerunsPerOperation, long GaveUp, double LockWaitMs);

public sealed record LabTotals(long Committed, long GaveUp, long Refused, long Reruns, long Attempts);

/// <summary>The lab's runs in this process: one at a time, each in scratch databases of its own, which it drops when done.</summary>
internal sealed class LabRuns(IConfiguration configuration, IReadOnlyList<IRaceWorkload> workloads, ConcurrencyMetrics metrics, IHostApplicationLifetime lifetime,
    ILogger<LabRuns> logger)
{
    const int Kept = 20;
    readonly Lock _gate = new();
    readonly ConcurrentDictionary<Guid, LabRun> _runs = new();
    LabRun? _current;

    public LabRun? Find(Guid id) => _runs.GetValueOrDefault(id);

    public LabRun Start(StartLabRun request)
    {
        lock (_gate)
        {
            if (_current is { } running && !running.View().Ended) throw new LabBusyException(running.View());
            var workload = workloads.Single(w => w.Name == request.Workload);
            var run = new LabRun(request, workload);
            _current = run;
            _runs[run.Id] = run;
            foreach (var old in _runs.Values.OrderByDescending(r => r.StartedAt).Skip(Kept)) _runs.TryRemove(old.Id, out _);
            _ = Task.Run(() => run.RunAsync(ScratchServer(), DatabaseProfiles.From(configuration), metrics, logger, lifetime.ApplicationStopping));
            return run;
        }
    }

    /// <summary>The Host's own database server; each lane's database is named after the Host's database, so that parallel Hosts (the suite's) keep apart.</summary>
    string ScratchServer() => ModuleDatabase.ConnectionString(configuration);
}

internal sealed class LabRun(StartLabRun request, IRaceWorkload workload)
{
    readonly Lane[] _lanes = request.Strategies.Select(s => new Lane(s)).ToArray();
    volatile LabRunState _state = LabRunState.Preparing;
    string? _error;
    long _raceStarted;

    public Guid Id { get; } = Guid.CreateVersion7();
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public LabRunView View() => new(Id, request.Workload, request.HotSet, request.Workers, request.DurationSeconds, _state,
        _raceStarted == 0 ? 0 : Math.Min(request.DurationSeconds, Stopwatch.GetElapsedTime(_raceStarted).TotalSeconds), _error,
        _lanes.Select(l => l.View()).ToList());

    /// <summary>The race, each lane on a stack of its own whose measurements count in <paramref name="exported"/> too, the Host's.</summary>
    public async Task RunAsync(string server, DatabaseProfile profile, ConcurrencyMetrics exported, ILogger logger, CancellationToken stopping)
    {
        var arenas = new List<IRaceArena>();
        var outcome = LabRunState.Failed;
        try
        {
            var database = new DbConnectionStringBuilder { ConnectionString = server }["Database"]?.ToString() ?? "monolith";
            arenas.AddRange(await Task.WhenAll(_lanes.Select((lane, i) =>
                workload.PrepareAsync(server, $"{database}_lab_{i + 1}", lane.Strategy, profile, exported, request.HotSet, stopping))));

            _state = LabRunState.Running;
            _raceStarted = Stopwatch.GetTimestamp();
            var until = _raceStarted + (long)(request.DurationSeconds * Stopwatch.Frequency);
            bool KeepGoing() => Stopwatch.GetTimestamp() < until;
            var listeners = _lanes.Zip(arenas, (lane, arena) => lane.Listen(arena.Metrics)).ToList();
            using var ticks = new CancellationTokenSource();
            var ticker = TickAsync(ticks.Token);
            try
            {
                await Task.WhenAll(_lanes.Zip(arenas).SelectMany(pair => Enumerable.Range(0, request.Workers).Select(w =>
                    Task.Run(() => pair.Second.RunWorkerAsync(w, KeepGoing, pair.First.Ended, stopping)))));
            }
            finally
            {
                await ticks.CancelAsync();
                await ticker;
                // The operations in flight at the deadline: a point of their own only if they took half a second or more.
                foreach (var lane in _lanes) lane.Tick(Stopwatch.GetElapsedTime(_raceStarted).TotalSeconds, shortest: 0.5);
                foreach (var listener in listeners) listener.Dispose();
            }

            _state = LabRunState.Checking;
            for (var i = 0; i < _lanes.Length; i++) _lanes[i].Invariants = await arenas[i].CheckAsync(stopping);
            outcome = LabRunState.Ended;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Lab run {Run} failed: {Message}", Id, e.Message);
            _error = e is InvalidOperationException or ArgumentException ? e.Message : $"The run failed: {e.GetType().Name}: {e.Message}";
        }
        finally
        {
            foreach (var arena in arenas)
            {
                try { await arena.DisposeAsync(); }
                catch (Exception e) { logger.LogWarning(e, "Lab run {Run}: its scratch database was not dropped: {Message}", Id, e.Message); }
            }
            // Ended only once its scratch databases are gone: the next run may start, and nothing of this one is left.
            _state = outcome;
        }
    }

    async Task TickAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
                foreach (var lane in _lanes) lane.Tick(Stopwatch.GetElapsedTime(_raceStarted).TotalSeconds);
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One strategy's counters: the current second's, folded into a point at each tick, and the run's totals.</summary>
    sealed class Lane(string strategy)
    {
        readonly Lock _gate = new();
        readonly List<LabPoint> _points = [];
        List<double> _latencies = [];
        long _committed, _gaveUp, _refused, _conflicts, _attempts, _lockWaits;
        double _lockWaitMs;
        (long Committed, long GaveUp, long Conflicts, long LockWaits, double LockWaitMs, double At) _lastTick;

        public string Strategy => strategy;
        public IReadOnlyList<InvariantCheck>? Invariants { get; set; }

        public IDisposable Listen(ConcurrencyMetrics metrics) => metrics.Listen((instrument, value, _) =>
        {
            lock (_gate)
            {
                switch (instrument)
                {
                    case ConcurrencyMetrics.Instruments.Attempts: _attempts += (long)value; break;
                    case ConcurrencyMetrics.Instruments.Conflicts: _conflicts += (long)value; break;
                    case ConcurrencyMetrics.Instruments.LockWait: _lockWaits++; _lockWaitMs += value; break;
                }
            }
        });

        public void Ended(RaceOutcome outcome, long started)
        {
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            lock (_gate)
            {
                switch (outcome)
                {
                    case RaceOutcome.Committed: _committed++; _latencies.Add(ms); break;
                    case RaceOutcome.GaveUp: _gaveUp++; break;
                    case RaceOutcome.Refused: _refused++; break;
                }
            }
        }

        public void Tick(double at, double shortest = 0.05)
        {
            lock (_gate)
            {
                var seconds = at - _lastTick.At;
                if (seconds < shortest) return;
                var latencies = _latencies;
                _latencies = [];
                latencies.Sort();
                double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
                var committed = _committed - _lastTick.Committed;
                var lockWaits = _lockWaits - _lastTick.LockWaits;
                _points.Add(new LabPoint(Math.Round(at, 2), Math.Round(committed / seconds, 1), Math.Round(Percentile(0.50), 2), Math.Round(Percentile(0.99), 2),
                    committed == 0 ? 0 : Math.Round((double)(_conflicts - _lastTick.Conflicts) / committed, 3), _gaveUp - _lastTick.GaveUp,
                    lockWaits == 0 ? 0 : Math.Round((_lockWaitMs - _lastTick.LockWaitMs) / lockWaits, 3)));
                _lastTick = (_committed, _gaveUp, _conflicts, _lockWaits, _lockWaitMs, at);
            }
        }

        public LabLaneView View()
        {
            lock (_gate) return new(strategy, _points.ToList(), new LabTotals(_committed, _gaveUp, _refused, _conflicts, _attempts), Invariants);
        }
    }
}
