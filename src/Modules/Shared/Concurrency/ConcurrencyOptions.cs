using Microsoft.Extensions.Configuration;

namespace Monolith.Shared.Concurrency;

public enum StrategyName { PessimisticRowLock, OptimisticCas, HybridMvcc, GapLock, SerializableRetry, RedisLock, SingleWriter }

/// <summary>The "Concurrency" configuration section.</summary>
public sealed class ConcurrencyOptions
{
    public const string Section = "Concurrency";

    public static ConcurrencyOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<ConcurrencyOptions>() ?? new ConcurrencyOptions();

    /// <summary>The strategy of every module without its own entry in <see cref="Modules"/>.</summary>
    public string Strategy { get; set; } = nameof(StrategyName.PessimisticRowLock);

    /// <summary>Per-module overrides: Concurrency:Modules:Ledger = OptimisticCas.</summary>
    public Dictionary<string, string> Modules { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long one statement may wait for a lock before the unit fails and re-runs.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts in all, the first included; when they run out the API answers 409.</summary>
    public int MaxAttempts { get; set; } = 12;

    /// <summary>
    /// Concurrency:RunRefusedStrategy, for the race suite only: starts with a strategy that the database profile refuses,
    /// so that the suite can show the anomaly the refusal is for. Never set it where money is real.
    /// </summary>
    public bool RunRefusedStrategy { get; set; }

    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(4);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>The RedisLock strategy's settings: Concurrency:Redis.</summary>
    public RedisLockOptions Redis { get; set; } = new();

    /// <summary>The SingleWriter strategy's settings: Concurrency:SingleWriter.</summary>
    public SingleWriterOptions SingleWriter { get; set; } = new();

    public string StrategyFor(string module) =>
        Modules.TryGetValue(module, out var name) && !string.IsNullOrWhiteSpace(name) ? name : Strategy;
}

/// <summary>Concurrency:Redis. The server comes from ConnectionStrings:Redis (default 127.0.0.1:6379).</summary>
public sealed class RedisLockOptions
{
    /// <summary>
    /// How long a lock lives without extension: how long a crashed holder blocks its rows. A live holder's lock is
    /// extended in the background every third of it, for as long as its unit runs.
    /// </summary>
    public TimeSpan LockExpiry { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Concurrency:SingleWriter.</summary>
public sealed class SingleWriterOptions
{
    /// <summary>
    /// Writers per module, each with its own queue and connection. A unit goes to the partition of its smallest
    /// declared key, so units over the same rows meet in one queue; units over other rows commit in parallel.
    /// </summary>
    public int Partitions { get; set; } = 8;

    /// <summary>Most units committed in one transaction. A writer never waits for a batch to fill.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>Units waiting per partition; beyond it a write is refused with 503 and Retry-After, having written nothing.</summary>
    public int QueueCapacity { get; set; } = 1024;
}
