using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Monolith.Host;
using Monolith.Shared.Access;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// Who the suite acts as. The race workloads open their accounts and spend from them as <see cref="Tester"/>, who
/// also holds the operator role, so that one caller funds (a deposit is an operator's act) and races its own
/// accounts; the authorization tests use distinct owners and operators.
/// </summary>
internal static class Callers
{
    public static readonly Caller Tester = Caller.Operator("race-tester");

    /// <summary>A bearer token for <paramref name="caller"/>, signed with the development key the Host uses under ./dev run.</summary>
    public static string TokenFor(Caller caller) => AccessTokens.Mint(Development.Value, caller.Subject, caller.IsOperator);

    /// <summary>The client, sending <paramref name="caller"/>'s token on every request.</summary>
    public static HttpClient As(this HttpClient client, Caller caller)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor(caller));
        return client;
    }

    static readonly Lazy<AccessTokenOptions> Development = new(() => AccessTokenOptions.Development(Path.Combine(HostProcess.RepositoryRoot(), "src", "Host")));

    /// <summary>
    /// The Hosts the suite starts, in process or as processes, run as under ./dev run (the development signing key)
    /// and let the races through: a rate limit would refuse a race's requests, and the rate-limit test sets its own.
    /// </summary>
    [ModuleInitializer]
    internal static void ConfigureHosts()
    {
        Environment.SetEnvironmentVariable("ASPNETCORE_ENVIRONMENT", "Development");
        Environment.SetEnvironmentVariable("RateLimiting__PermitsPerSecond", "1000000");
        Environment.SetEnvironmentVariable("RateLimiting__Burst", "1000000");
    }
}
