using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Monolith.Shared.Concurrency;

/// <summary>Attempts, conflicts, give-ups and lock-wait time per strategy and module (meter "Monolith.Concurrency").</summary>
public sealed class ConcurrencyMetrics : IDisposable
{
    public const string MeterName = "Monolith.Concurrency";

    readonly Meter _meter = new(MeterName);

    internal Meter Meter => _meter;
    readonly Counter<long> _attempts;
    readonly Counter<long> _conflicts;
    readonly Counter<long> _gaveUp;
    readonly Histogram<double> _lockWait;
    readonly Histogram<int> _batchSize;
    readonly Histogram<int> _batchFailed;
    readonly Histogram<double> _queueWait;
    readonly System.Collections.Concurrent.ConcurrentDictionary<(string Strategy, string Module), Func<int>> _queueDepths = new();

    public ConcurrencyMetrics()
    {
        _attempts = _meter.CreateCounter<long>("monolith.concurrency.attempts", description: "Runs of a unit of work, re-runs included.");
        _conflicts = _meter.CreateCounter<long>("monolith.concurrency.conflicts", description: "Runs that ended in a retryable conflict.");
        _gaveUp = _meter.CreateCounter<long>("monolith.concurrency.gave_up", description: "Units abandoned after the last attempt (answered 409).");
        _lockWait = _meter.CreateHistogram<double>("monolith.concurrency.lock_wait", unit: "ms", description: "Time spent acquiring locks.");
        _batchSize = _meter.CreateHistogram<int>("monolith.concurrency.batch_size", unit: "{unit}", description: "Units committed together in one transaction.");
        _batchFailed = _meter.CreateHistogram<int>("monolith.concurrency.batch_failed", unit: "{unit}", description: "Units of a batch that failed as a whole and was re-run unit by unit.");
        _queueWait = _meter.CreateHistogram<double>("monolith.concurrency.queue_wait", unit: "ms", description: "Time a unit waited in its queue before its batch began.");
        _meter.CreateObservableGauge("monolith.concurrency.queue_depth", () => _queueDepths.Select(q =>
                new Measurement<int>(q.Value(), new KeyValuePair<string, object?>("strategy", q.Key.Strategy), new KeyValuePair<string, object?>("module", q.Key.Module))),
            unit: "{unit}", description: "Units waiting in a module's write queues.");
    }

    public void Attempted(string strategy, string module) => _attempts.Add(1, Tags(strategy, module));
    public void Conflicted(string strategy, string module, string reason) =>
        _conflicts.Add(1, [new("strategy", strategy), new("module", module), new("reason", reason)]);
    public void GaveUp(string strategy, string module) => _gaveUp.Add(1, Tags(strategy, module));
    public void LockWaited(string strategy, string module, TimeSpan waited) => _lockWait.Record(waited.TotalMilliseconds, Tags(strategy, module));
    public void BatchCommitted(string strategy, string module, int size) => _batchSize.Record(size, Tags(strategy, module));
    public void BatchFailed(string strategy, string module, int size) => _batchFailed.Record(size, Tags(strategy, module));
    public void QueueWaited(string strategy, string module, TimeSpan waited) => _queueWait.Record(waited.TotalMilliseconds, Tags(strategy, module));
    public void ObserveQueueDepth(string strategy, string module, Func<int> depth) => _queueDepths[(strategy, module)] = depth;

    static TagList Tags(string strategy, string module) => new() { { "strategy", strategy }, { "module", module } };

    public void Dispose() => _meter.Dispose();
}
