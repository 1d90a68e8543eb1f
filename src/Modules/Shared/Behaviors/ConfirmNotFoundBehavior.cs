using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Errors;

namespace Monolith.Shared.Behaviors;

/// <summary>
/// On a node of a multi-primary cluster only: a request, command or query, that found no row it named is run again a
/// few times over about 0.6 s before its 404 is answered. A plain read on one node just after a commit through another
/// may not see that commit yet, causal reads notwithstanding (docs/scale-out.md measures it; locking reads were never
/// stale), so an order placed through one Host could be "not found" through the next. Running the request again is
/// safe: a unit that found nothing rolled back, so nothing was written. What stays missing for the whole wait is answered 404.
/// </summary>
public sealed class ConfirmNotFoundBehavior<TRequest, TResponse>(ILogger<ConfirmNotFoundBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
    /// <summary>
    /// The waits between runs, doubling, 630 ms in all: longer than the stale reads measured on nodes kept busy
    /// applying other writes (docs/scale-out.md). A node that lags for longer, a donor during a state transfer, is not
    /// Synced, and /health takes it out of service.
    /// </summary>
    internal static readonly IReadOnlyList<TimeSpan> Waits = [.. new[] { 10, 20, 40, 80, 160, 320 }.Select(ms => TimeSpan.FromMilliseconds(ms))];

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        for (var run = 0; ; run++)
        {
            try
            {
                return await next();
            }
            catch (NotFoundException missing) when (run < Waits.Count)
            {
                Activity.Current?.AddEvent(new ActivityEvent("not found, confirming", tags: new ActivityTagsCollection { ["run"] = run + 1 }));
                logger.LogDebug("{Request} found nothing on run {Run} ({Detail}); running it again in {WaitMs} ms",
                    typeof(TRequest).Name, run + 1, missing.Message, Waits[run].TotalMilliseconds);
                await Task.Delay(Waits[run], cancellationToken);
            }
        }
    }
}
