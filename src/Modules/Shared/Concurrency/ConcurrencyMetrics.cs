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

    public ConcurrencyMetrics()
    {
        _attempts = _meter.CreateCounter<long>("monolith.concurrency.attempts", description: "Runs of a unit of work, re-runs included.");
        _conflicts = _meter.CreateCounter<long>("monolith.concurrency.conflicts", description: "Runs that ended in a retryable conflict.");
        _gaveUp = _meter.CreateCounter<long>("monolith.concurrency.gave_up", description: "Units abandoned after the last attempt (answered 409).");
        _lockWait = _meter.CreateHistogram<double>("monolith.concurrency.lock_wait", unit: "ms", description: "Time spent acquiring locks.");
    }

    public void Attempted(string strategy, string module) => _attempts.Add(1, Tags(strategy, module));
    public void Conflicted(string strategy, string module, string reason) =>
        _conflicts.Add(1, [new("strategy", strategy), new("module", module), new("reason", reason)]);
    public void GaveUp(string strategy, string module) => _gaveUp.Add(1, Tags(strategy, module));
    public void LockWaited(string strategy, string module, TimeSpan waited) => _lockWait.Record(waited.TotalMilliseconds, Tags(strategy, module));

    static TagList Tags(string strategy, string module) => new() { { "strategy", strategy }, { "module", module } };

    public void Dispose() => _meter.Dispose();
}
