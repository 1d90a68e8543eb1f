using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;

namespace Monolith.Shared.Behaviors;

/// <summary>
/// Each command's span (its strategy's attempts are its children) and a Debug line with how long it took: at
/// Information it would be one console line per request on the hot path, and the span and the meters carry the timing.
/// </summary>
public sealed class CommandTelemetryBehavior<TRequest, TResponse>(ILogger<CommandTelemetryBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (request is not ICommand<TResponse>) return await next();
        var command = typeof(TRequest).Name;
        using var span = Telemetry.Commands.StartActivity(command)?.SetTag(Telemetry.Attributes.Command, command);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await next();
            if (logger.IsEnabled(LogLevel.Debug))
                logger.LogDebug("{Command} handled in {ElapsedMs:F1} ms", command, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return response;
        }
        catch (Exception e)
        {
            span?.SetTag("error.type", e.GetType().Name).SetStatus(ActivityStatusCode.Error, e.Message);
            if (logger.IsEnabled(LogLevel.Debug))
                logger.LogDebug("{Command} refused after {ElapsedMs:F1} ms: {Outcome}", command, Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.GetType().Name);
            throw;
        }
    }
}
