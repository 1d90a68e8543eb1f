using Monolith.Shared.Concurrency;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>Attempts and conflicts recorded by one service provider's strategies (its own Meter).</summary>
internal sealed class ConcurrencyCounters : IDisposable
{
    readonly IDisposable _listener;
    long _attempts, _conflicts;

    public ConcurrencyCounters(ConcurrencyMetrics metrics) =>
        _listener = metrics.Listen((instrument, value, _) =>
        {
            if (instrument == ConcurrencyMetrics.Instruments.Attempts) Interlocked.Add(ref _attempts, (long)value);
            else if (instrument == ConcurrencyMetrics.Instruments.Conflicts) Interlocked.Add(ref _conflicts, (long)value);
        });

    public long Attempts => Interlocked.Read(ref _attempts);
    public long Conflicts => Interlocked.Read(ref _conflicts);

    public void Dispose() => _listener.Dispose();
}
