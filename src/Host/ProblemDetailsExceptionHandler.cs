using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Monolith.Shared.Errors;

namespace Monolith.Host;

/// <summary>
/// The one place a refusal becomes an RFC 9457 problem: 400 invalid input (with field errors), 404 unknown resource,
/// 422 business rule or reused idempotency key, 409 unresolved contention and 503 lock service down or write queue full (both with
/// Retry-After). Only a fault is a 500.
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
            BadHttpRequestException bad => BindingFailure.Describe(http, bad),
            NotFoundException e => Problem(StatusCodes.Status404NotFound, e),
            BusinessRuleException or IdempotencyKeyReusedException => Problem(StatusCodes.Status422UnprocessableEntity, (ProblemException)exception),
            ContentionException e => Problem(StatusCodes.Status409Conflict, e),
            ServiceUnavailableException or WriteQueueFullException => Problem(StatusCodes.Status503ServiceUnavailable, (ProblemException)exception),
            _ => new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Unexpected error" },
        };

        if (exception is ContentionException)
            http.Response.Headers.RetryAfter = ((int)ContentionException.RetryAfter.TotalSeconds).ToString();
        if (exception is ServiceUnavailableException)
            http.Response.Headers.RetryAfter = ((int)ServiceUnavailableException.RetryAfter.TotalSeconds).ToString();
        if (exception is WriteQueueFullException)
            http.Response.Headers.RetryAfter = ((int)WriteQueueFullException.RetryAfter.TotalSeconds).ToString();
        if (problem.Status == StatusCodes.Status500InternalServerError)
            logger.LogError(exception, "Unhandled exception on {Method} {Path}", http.Request.Method, http.Request.Path);

        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    static ProblemDetails Problem(int status, ProblemException e) => new() { Status = status, Title = e.Title, Detail = e.Message };
}
