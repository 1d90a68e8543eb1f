using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Host;

/// <summary>
/// The one place a refusal becomes an RFC 9457 problem: 400 invalid input (with field errors), 404 unknown resource,
/// 422 business rule or reused idempotency key, 409 unresolved contention and 503 database or lock service unreachable or
/// write queue full (each with Retry-After). Only a fault is a 500.
/// </summary>
internal sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problems, ILogger<ProblemDetailsExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        ProblemDetails problem = exception switch
        {
            ValidationException invalid => new HttpValidationProblemDetails(invalid.Errors
                .GroupBy(e => JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName))
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray()))
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid request",
            },
            InvalidCursorException invalid => new HttpValidationProblemDetails(new Dictionary<string, string[]>
            {
                [JsonNamingPolicy.CamelCase.ConvertName(invalid.Parameter)] = [invalid.Message],
            })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = invalid.Title,
            },
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => new ProblemDetails
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Title = "Request body too large",
                Detail = "The body is larger than this API accepts (Kestrel:Limits:MaxRequestBodySize); nothing was done.",
            },
            BadHttpRequestException bad => BindingFailure.Describe(http, bad),
            NotFoundException e => Problem(StatusCodes.Status404NotFound, e),
            ForbiddenException e => Problem(StatusCodes.Status403Forbidden, e),
            BusinessRuleException or IdempotencyKeyReusedException => Problem(StatusCodes.Status422UnprocessableEntity, (ProblemException)exception),
            ContentionException e => Problem(StatusCodes.Status409Conflict, e),
            Monolith.Lab.LabBusyException e => Problem(StatusCodes.Status409Conflict, e),
            ServiceUnavailableException or WriteQueueFullException => Problem(StatusCodes.Status503ServiceUnavailable, (ProblemException)exception),
            _ when DatabaseProvider.Classify(exception) == FailureKind.Unavailable => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Database unavailable",
                // A commit the outage cut off may have landed; the key tells on retry, and applies it at most once.
                Detail = "The database could not be reached or did not answer in time. Retry later with the same Idempotency-Key: " +
                         "a write that was applied answers as it did, one that was not is applied once.",
            },
            _ => new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Unexpected error" },
        };

        TimeSpan? retryAfter = exception switch
        {
            ContentionException => ContentionException.RetryAfter,
            ServiceUnavailableException => ServiceUnavailableException.RetryAfter,
            WriteQueueFullException => WriteQueueFullException.RetryAfter,
            Monolith.Lab.LabBusyException busy => busy.RetryAfter,
            _ when problem.Status == StatusCodes.Status503ServiceUnavailable => DatabaseUnavailableRetryAfter,
            _ => null,
        };
        if (retryAfter is { } wait) http.Response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString();
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
            logger.LogWarning(exception, "Database unavailable on {Method} {Path}", http.Request.Method, http.Request.Path);
        if (problem.Status == StatusCodes.Status500InternalServerError)
            logger.LogError(exception, "Unhandled exception on {Method} {Path}", http.Request.Method, http.Request.Path);

        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    static readonly TimeSpan DatabaseUnavailableRetryAfter = TimeSpan.FromSeconds(2);

    static ProblemDetails Problem(int status, ProblemException e) => new() { Status = status, Title = e.Title, Detail = e.Message };
}
