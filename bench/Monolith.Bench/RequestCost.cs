using Monolith.Lab;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Bench;

/// <summary>
/// What a request costs the Host's process, for working on the request path: wrk sends transfers to a Host of its own
/// on the uncontended set, and the Host's CPU time and bytes allocated (its own /metrics) are read before and after.
/// Two kinds of request: one the validator refuses (amount 0, a 400 problem: Kestrel, authentication, the rate limiter,
/// routing, JSON, MediatR and the validator, and no database), and one committed (201: all of that but the refusal's
/// exception, plus the handler, the strategy and the database).
/// </summary>
internal static class RequestCost
{
    public sealed record Measured(string Request, int Status, double RequestsPerSecond, double CpuMicrosecondsPerRequest, double KilobytesPerRequest);

    public static async Task<List<Measured>> RunAsync(string strategy, int connections, TimeSpan duration, bool committedOnly = false)
    {
        var database = new LedgerScratch("monolith_bench_requests");
        await database.CreateAsync(accounts: 10_000);
        await using var host = await HostProcess.StartAsync(HttpContention.HostSettings(database.ConnectionString, strategy));
        await new HttpContention(database, host.BaseAddress).WarmUntilSteadyAsync(strategy);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var measured = new List<Measured>();
        foreach (var (request, amount, status) in new[] { ("refused by the validator", 0, 400), ("committed transfer", 1, 201) }.Skip(committedOnly ? 1 : 0))
        {
            // One unmeasured second first, so the kind's own code is jitted before it counts.
            await HttpContention.WrkAsync(host.BaseAddress, database.Accounts, connections, TimeSpan.FromSeconds(1), amount: amount);
            var (cpu, bytes) = (host.CpuTime, await AllocatedBytesAsync(client));
            var run = await HttpContention.WrkAsync(host.BaseAddress, database.Accounts, connections, duration, amount: amount);
            var (cpuAfter, bytesAfter) = (host.CpuTime, await AllocatedBytesAsync(client));
            var answered = run.Statuses.GetValueOrDefault(status);
            var others = run.Statuses.Where(s => s.Key != status).ToList();
            if (answered == 0 || others.Count > 0)
                throw new InvalidOperationException($"{request}: expected only {status}, got {string.Join(", ", run.Statuses.Select(s => $"{s.Value} × {s.Key}"))}");
            measured.Add(new Measured(request, status, answered / duration.TotalSeconds,
                (cpuAfter - cpu).TotalMicroseconds / answered, (bytesAfter - bytes) / 1024.0 / answered));
        }
        await database.DropAsync();
        return measured;
    }

    /// <summary>The runtime's count of bytes allocated since the Host started (one scrape's own bytes are noise here).</summary>
    static async Task<double> AllocatedBytesAsync(HttpClient client) =>
        HttpContention.MetricValue(await client.GetStringAsync("/metrics"), "dotnet_gc_heap_total_allocated_bytes_total");
}
