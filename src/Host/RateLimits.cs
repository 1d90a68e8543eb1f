using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Monolith.Host;

/// <summary>
/// The "RateLimiting" section: a token bucket per subject (per remote address for a request without a valid token)
/// that refills <see cref="PermitsPerSecond"/> and holds <see cref="Burst"/>. A request beyond it gets 429 with
/// Retry-After, before any work is done.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    public int PermitsPerSecond { get; set; } = 200;
    public int Burst { get; set; } = 400;

    internal static IServiceCollection AddRateLimits(IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection(Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (limits.PermitsPerSecond < 1 || limits.Burst < 1)
            throw new InvalidOperationException("RateLimiting:PermitsPerSecond and RateLimiting:Burst must be at least 1.");
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.Burst,
            TokensPerPeriod = limits.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        return services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                RateLimitPartition.GetTokenBucketLimiter(
                    AccessTokens.SubjectOf(http.User) is { } subject ? $"sub:{subject}" : $"ip:{http.Connection.RemoteIpAddress}",
                    _ => bucket));
            o.OnRejected = async (context, ct) =>
            {
                // A bucket refills every second: the lease says when, or the next refill is at most that far.
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"This caller may send {limits.PermitsPerSecond} requests per second (bursts of {limits.Burst}); nothing was done. Retry later.",
                    },
                });
            };
        });
    }
}
