using System.Diagnostics.Metrics;
using Monolith.Shared.Concurrency;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>Attempts and conflicts recorded by one service provider's strategies (its own Meter).</summary>
internal sealed class ConcurrencyCounters : IDisposable
{
    readonly MeterListener _listener = new();
    long _attempts, _conflicts;

    public ConcurrencyCounters(ConcurrencyMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == metrics.Meter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "monolith.concurrency.attempts") Interlocked.Add(ref _attempts, value);
            else if (instrument.Name == "monolith.concurrency.conflicts") Interlocked.Add(ref _conflicts, value);
        });
        _listener.Start();
    }

    public long Attempts => Interlocked.Read(ref _attempts);
    public long Conflicts => Interlocked.Read(ref _conflicts);

    public void Dispose() => _listener.Dispose();
}
