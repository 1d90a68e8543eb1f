using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency;

/// <summary>A version check failed, or a lock could not be had in time: another unit changed a row since this one read it. The unit re-runs.</summary>
public sealed class ConcurrencyConflictException(string message) : Exception(message);

/// <summary>A write carried an older fencing token than the row holds: its lock had expired and a newer holder wrote. The unit re-runs.</summary>
public sealed class FencedOutException(string message) : Exception(message);

public static class Conflicts
{
    /// <summary>True when the unit lost a race it may win on a re-run from fresh reads.</summary>
    public static bool IsRetryable(Exception e) =>
        e is ConcurrencyConflictException or FencedOutException || DatabaseProvider.Classify(e) == FailureKind.Retryable;

    /// <summary>What the conflict was, for metrics and logs: "version", or the database's error code.</summary>
    public static string Reason(Exception e) => e switch
    {
        ConcurrencyConflictException => "version",
        FencedOutException => "fenced",
        _ => DatabaseProvider.ErrorCode(e) ?? e.GetType().Name,
    };
}
