using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Monolith.Shared.Concurrency;

/// <summary>Attempts, conflicts, give-ups and lock-wait time per strategy and module (meter "Monolith.Concurrency").</summary>
public sealed class ConcurrencyMetrics : IDisposable
{
    public const string MeterName = "Monolith.Concurrency";

    /// <summary>The instruments' names, for whatever listens to them (the bench, the tests, an exporter).</summary>
    public static class Instruments
    {
        public const string Attempts = "monolith.concurrency.attempts";
        public const string Conflicts = "monolith.concurrency.conflicts";
        public const string GaveUp = "monolith.concurrency.gave_up";
        public const string LockWait = "monolith.concurrency.lock_wait";
        public const string BatchSize = "monolith.concurrency.batch_size";
        public const string BatchFailed = "monolith.concurrency.batch_failed";
        public const string QueueWait = "monolith.concurrency.queue_wait";
        public const string QueueDepth = "monolith.concurrency.queue_depth";
    }

    /// <summary>One measurement of one of this meter's instruments, with its tags (strategy, module, and for conflicts the reason).</summary>
    public delegate void Measured(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    /// <summary>
    /// Listens to the instruments of this instance's meter only (every service provider has its own), until disposed:
    /// how the bench and the tests count attempts, conflicts and batches.
    /// </summary>
    public IDisposable Listen(Measured measured)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (instrument.Meter == _meter) l.EnableMeasurementEvents(instrument); },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measured(instrument.Name, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => measured(instrument.Name, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measured(instrument.Name, value, tags));
        listener.Start();
        return listener;
    }

    /// <summary>A tag's value in a measurement, or null.</summary>
    public static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags) if (tag.Key == key) return tag.Value?.ToString();
        return null;
    }

    readonly Meter _meter;
    readonly ConcurrencyMetrics? _alsoIn;

    readonly Counter<long> _attempts;
    readonly Counter<long> _conflicts;
    readonly Counter<long> _gaveUp;
    readonly Histogram<double> _lockWait;
    readonly Histogram<int> _batchSize;
    readonly Histogram<int> _batchFailed;
    readonly Histogram<double> _queueWait;
    readonly System.Collections.Concurrent.ConcurrentDictionary<(string Strategy, string Module), Func<int>> _queueDepths = new();

    public ConcurrencyMetrics() : this(MeterName, alsoIn: null)
    {
    }

    /// <summary>
    /// For a stack that lives shorter than the process (a lab run's): a meter of its own for the stack's own figures,
    /// under a name no exporter takes, with every measurement counted again in <paramref name="exported"/> (the Host's),
    /// so that /metrics keeps what the run did after the stack is gone; an exporter drops a disposed meter's series.
    /// Not the queue depth: a gauge of the stack's queues would outlive them.
    /// </summary>
    public static ConcurrencyMetrics CountingAlsoIn(ConcurrencyMetrics exported) => new(MeterName + ".Scratch", exported);

    ConcurrencyMetrics(string meterName, ConcurrencyMetrics? alsoIn)
    {
        _meter = new Meter(meterName);
        _alsoIn = alsoIn;
        _attempts = _meter.CreateCounter<long>(Instruments.Attempts, description: "Runs of a unit of work, re-runs included.");
        _conflicts = _meter.CreateCounter<long>(Instruments.Conflicts, description: "Runs that ended in a retryable conflict.");
        _gaveUp = _meter.CreateCounter<long>(Instruments.GaveUp, description: "Units abandoned after the last attempt (answered 409).");
        _lockWait = _meter.CreateHistogram<double>(Instruments.LockWait, unit: "ms", description: "Time spent acquiring locks.");
        _batchSize = _meter.CreateHistogram<int>(Instruments.BatchSize, unit: "{unit}", description: "Units committed together in one transaction.");
        _batchFailed = _meter.CreateHistogram<int>(Instruments.BatchFailed, unit: "{unit}", description: "Units of a batch that failed as a whole and was re-run unit by unit.");
        _queueWait = _meter.CreateHistogram<double>(Instruments.QueueWait, unit: "ms", description: "Time a unit waited in its queue before its batch began.");
        _meter.CreateObservableGauge(Instruments.QueueDepth, () => _queueDepths.Select(q =>
                new Measurement<int>(q.Value(), new KeyValuePair<string, object?>("strategy", q.Key.Strategy), new KeyValuePair<string, object?>("module", q.Key.Module))),
            unit: "{unit}", description: "Units waiting in a module's write queues.");
    }

    public void Attempted(string strategy, string module)
    {
        _attempts.Add(1, Tags(strategy, module));
        _alsoIn?.Attempted(strategy, module);
    }

    public void Conflicted(string strategy, string module, string reason)
    {
        _conflicts.Add(1, [new("strategy", strategy), new("module", module), new("reason", reason)]);
        _alsoIn?.Conflicted(strategy, module, reason);
    }

    public void GaveUp(string strategy, string module)
    {
        _gaveUp.Add(1, Tags(strategy, module));
        _alsoIn?.GaveUp(strategy, module);
    }

    public void LockWaited(string strategy, string module, TimeSpan waited)
    {
        _lockWait.Record(waited.TotalMilliseconds, Tags(strategy, module));
        _alsoIn?.LockWaited(strategy, module, waited);
    }

    public void BatchCommitted(string strategy, string module, int size)
    {
        _batchSize.Record(size, Tags(strategy, module));
        _alsoIn?.BatchCommitted(strategy, module, size);
    }

    public void BatchFailed(string strategy, string module, int size)
    {
        _batchFailed.Record(size, Tags(strategy, module));
        _alsoIn?.BatchFailed(strategy, module, size);
    }

    public void QueueWaited(string strategy, string module, TimeSpan waited)
    {
        _queueWait.Record(waited.TotalMilliseconds, Tags(strategy, module));
        _alsoIn?.QueueWaited(strategy, module, waited);
    }

    public void ObserveQueueDepth(string strategy, string module, Func<int> depth) => _queueDepths[(strategy, module)] = depth;

    static TagList Tags(string strategy, string module) => new() { { "strategy", strategy }, { "module", module } };

    public void Dispose() => _meter.Dispose();
}
