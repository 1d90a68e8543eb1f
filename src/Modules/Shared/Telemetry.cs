using System.Diagnostics;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;

namespace Monolith.Shared;

/// <summary>
/// Where Monolith's own spans come from: one per command (its MediatR pipeline), and under it one per attempt of its
/// strategy. The Host subscribes to both sources and to the <see cref="ConcurrencyMetrics"/> meter.
/// </summary>
public static class Telemetry
{
    public const string CommandSource = "Monolith.Commands";
    public const string AttemptSource = ConcurrencyMetrics.MeterName;

    /// <summary>The attributes Monolith puts on its spans.</summary>
    public static class Attributes
    {
        public const string Command = "monolith.command";
        public const string Strategy = "monolith.strategy";
        public const string Module = "monolith.module";
        public const string Attempt = "monolith.attempt";
        public const string ConflictReason = "monolith.conflict.reason";
        public const string Outcome = "monolith.outcome";
        public const string BatchSize = "monolith.batch.size";
    }

    internal static readonly ActivitySource Commands = new(CommandSource);
    internal static readonly ActivitySource Attempts = new(AttemptSource);

    /// <summary>
    /// A span for one attempt of a unit, under <paramref name="parent"/> when given (a queued unit, which runs on the
    /// writer's task, not its caller's), else under the current span; null when nothing listens.
    /// </summary>
    internal static Activity? StartAttempt(string strategy, string module, int attempt, ActivityContext parent = default)
    {
        var span = Attempts.StartActivity($"{strategy} attempt", ActivityKind.Internal, parent);
        span?.SetTag(Attributes.Strategy, strategy).SetTag(Attributes.Module, module).SetTag(Attributes.Attempt, attempt);
        return span;
    }

    /// <summary>How an attempt ended: committed, a conflict it may re-run (with its reason), or refused.</summary>
    internal static void Ended(this Activity? span, Exception? failure)
    {
        if (span is null) return;
        if (failure is null) { span.SetTag(Attributes.Outcome, "committed"); return; }
        if (Conflicts.IsRetryable(failure))
        {
            span.SetTag(Attributes.Outcome, "conflict").SetTag(Attributes.ConflictReason, Conflicts.Reason(failure));
            span.SetStatus(ActivityStatusCode.Error, Conflicts.Reason(failure));
            return;
        }
        if (failure is BusinessRuleException) { span.SetTag(Attributes.Outcome, "refused"); return; }
        span.SetTag(Attributes.Outcome, "failed").SetTag("error.type", failure.GetType().Name);
        span.SetStatus(ActivityStatusCode.Error, failure.Message);
    }
}
