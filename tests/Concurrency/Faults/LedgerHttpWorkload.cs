using Monolith.Lab.Invariants;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Ledger;

namespace Monolith.Tests.Concurrency.Faults;

/// <summary>
/// Transfers over HTTP through the real Host, from clients that keep each request's Idempotency-Key, while a fault
/// strikes; then every request that got no definite answer (5xx, or none) is retried with its key until it gets one,
/// as a careful client would. What it checks: no answer is a 500; every transfer answered 201 is in the database
/// exactly once and no other is (a write answered 503 was either not made, or its retry finds it); the money
/// invariants hold. Client c sends to Host c modulo the Hosts given: one in process, or several processes.
/// </summary>
internal sealed class LedgerHttpWorkload(IReadOnlyList<Func<HttpClient>> hosts, TestDatabase database, WebApplicationFactory<Program>? inProcessHost = null)
{
    public LedgerHttpWorkload(WebApplicationFactory<Program> host, TestDatabase database) : this([host.CreateClient], database, host) { }

    const int Accounts = 8;
    const decimal Funding = 1_000_000m;
    static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(60); // a request with no answer by then is "no answer"

    readonly ConcurrentBag<Attempt> _attempts = [];
    readonly List<Guid> _accounts = [];
    int _requests;

    public string DatabaseName => database.Name;

    /// <summary>Opens <paramref name="count"/> connections from the Host's own pool and holds them until disposed.</summary>
    public async Task<IAsyncDisposable> HoldConnectionsAsync(int count)
    {
        var host = inProcessHost ?? throw new InvalidOperationException("Only a Host in this process lends its connections.");
        var scopes = new List<AsyncServiceScope>();
        for (var i = 0; i < count; i++)
        {
            var scope = host.Services.CreateAsyncScope();
            scopes.Add(scope);
            // The burst competes for the same connections; this waits its turn as often as it must.
            while (true)
            {
                try
                {
                    await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Database.OpenConnectionAsync();
                    break;
                }
                catch (Exception e) when (DatabaseProvider.Classify(e) == FailureKind.Unavailable) { }
            }
        }
        return new Held(scopes);
    }

    sealed class Held(List<AsyncServiceScope> scopes) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var scope in scopes) await scope.DisposeAsync();
        }
    }

    /// <summary>Requests sent so far, retries excluded: the fault script paces itself by it.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Answers so far, retries excluded, by status (0: no answer).</summary>
    public int Answered(int status) => _attempts.Count(a => !a.Retry && a.Status == status);

    public async Task<Outcome> RunAsync(int clients, Func<LedgerHttpWorkload, Task> fault, int hotAccounts = Accounts)
    {
        var setup = Client(0);
        for (var i = 0; i < Accounts; i++)
        {
            var opened = await setup.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" });
            var id = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            Assert.Equal(HttpStatusCode.Created, (await setup.PostJsonAsync($"/api/ledger/accounts/{id}/deposits", new { amount = Funding })).StatusCode);
            _accounts.Add(id);
        }

        using var stop = new CancellationTokenSource();
        var faultDone = Task.Run(async () =>
        {
            try { await fault(this); }
            finally { await stop.CancelAsync(); }
        });
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var client = Client(c);
            var random = new Random(c);
            while (!stop.IsCancellationRequested)
            {
                var from = random.Next(hotAccounts);
                var to = (from + 1 + random.Next(hotAccounts - 1)) % hotAccounts;
                var body = new { fromAccountId = _accounts[from], toAccountId = _accounts[to], amount = random.Next(1, 10_000) / 100m };
                Interlocked.Increment(ref _requests);
                _attempts.Add(await SendAsync(client, Guid.NewGuid().ToString(), body, retry: false));
            }
        })));
        await faultDone;

        // The fault is over: every request without a definite answer is retried with its key until it has one.
        var unresolved = new List<string>();
        var settle = Enumerable.Range(0, hosts.Count).Select(Client).ToList();
        var pendings = _attempts.Where(a => !a.Definite).ToList();
        foreach (var (pending, index) in pendings.Select((p, i) => (p, i)))
        {
            // Round the Hosts, as a load balancer would send the retries: one of them may be the one still down.
            Attempt last = pending;
            for (var i = 0; i < 30 && !last.Definite; i++)
            {
                if (i > 0) await Task.Delay(500);
                last = await SendAsync(settle[(index + i) % settle.Count], pending.Key, pending.Body, retry: true);
                _attempts.Add(last);
            }
            if (!last.Definite) unresolved.Add($"key {pending.Key}: still {last.Status} after 30 retries");
        }

        return await CheckAsync(unresolved);
    }

    HttpClient Client(int index)
    {
        var client = hosts[index % hosts.Count]().As(Tester);
        client.Timeout = ClientTimeout;
        return client;
    }

    static async Task<Attempt> SendAsync(HttpClient client, string key, object body, bool retry)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.PostJsonAsync("/api/ledger/transfers", body, key);
            var status = (int)response.StatusCode;
            Guid? id = status == 201 ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid() : null;
            var hasRetryAfter = response.Headers.RetryAfter is not null;
            return new Attempt(key, body, status, id, Stopwatch.GetElapsedTime(started), retry, hasRetryAfter);
        }
        catch (Exception e) when (e is TaskCanceledException or HttpRequestException)
        {
            return new Attempt(key, body, Status: 0, null, Stopwatch.GetElapsedTime(started), retry, false);
        }
    }

    async Task<Outcome> CheckAsync(List<string> violations)
    {
        var first = _attempts.Where(a => !a.Retry).ToList();
        foreach (var a in _attempts.Where(a => a.Status >= 500 && a.Status != 503)) violations.Add($"key {a.Key}: answered {a.Status}");
        foreach (var a in _attempts.Where(a => a.Status == 503 && !a.HasRetryAfter)) violations.Add($"key {a.Key}: 503 without Retry-After");
        foreach (var key in _attempts.Where(a => a.Id is not null).GroupBy(a => a.Key).Where(g => g.Select(a => a.Id).Distinct().Count() > 1))
            violations.Add($"key {key.Key}: answered with {key.Select(a => a.Id).Distinct().Count()} different transfers");

        var acknowledged = _attempts.Where(a => a.Id is not null).Select(a => a.Id!.Value).ToHashSet();
        // This process's pool may still hold connections the fault broke; a check that meets one runs again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Hosts on other nodes of a cluster: the node checked may not have applied their last commits yet.
                violations.AddRange(await NodesAgree.CheckCaughtUpAsync(() => CheckStoredAsync(acknowledged)));
                break;
            }
            catch (Exception e) when (attempt < 5 && DatabaseProvider.Classify(e) == FailureKind.Unavailable) { }
        }

        return new Outcome(
            Requests: first.Count,
            Created: first.Count(a => a.Status == 201),
            Refused: first.Count(a => a.Status == 422),
            Contention: first.Count(a => a.Status == 409),
            Unavailable: first.Count(a => a.Status == 503),
            ServerErrors: first.Count(a => a.Status >= 500 && a.Status != 503),
            NoAnswer: first.Count(a => a.Status == 0),
            Retries: _attempts.Count - first.Count,
            FoundOnRetry: _attempts.Count(a => a.Retry && a.Id is not null),
            SlowestAnswer: first.Max(a => a.Elapsed),
            Violations: violations);
    }

    async Task<List<string>> CheckStoredAsync(HashSet<Guid> acknowledged)
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var stored = (await db.Transfers.Where(t => _accounts.Contains(t.FromAccountId)).Select(t => t.Id).ToListAsync()).ToHashSet();
        var violations = stored.Except(acknowledged).Select(id => $"transfer {id} is in the database but no answer acknowledged it")
            .Concat(acknowledged.Except(stored).Select(id => $"transfer {id} was acknowledged but is not in the database"))
            .ToList();
        violations.AddRange(await LedgerInvariants.CheckAccountsAsync(db, _accounts));
        var total = await db.Accounts.Where(a => _accounts.Contains(a.Id)).SumAsync(a => a.Balance);
        if (total != Accounts * Funding) violations.Add($"the accounts hold {total}, not the {Accounts * Funding} deposited");
        return violations;
    }

    sealed record Attempt(string Key, object Body, int Status, Guid? Id, TimeSpan Elapsed, bool Retry, bool HasRetryAfter)
    {
        /// <summary>201 or a refusal the request itself earned: the client knows what happened.</summary>
        public bool Definite => Status is 201 or 422 or 400;
    }

    public sealed record Outcome(int Requests, int Created, int Refused, int Contention, int Unavailable, int ServerErrors, int NoAnswer,
        int Retries, int FoundOnRetry, TimeSpan SlowestAnswer, List<string> Violations)
    {
        public override string ToString() =>
            $"{Requests} requests: {Created} × 201, {Refused} × 422, {Contention} × 409, {Unavailable} × 503, {ServerErrors} × 500, {NoAnswer} without answer; " +
            $"slowest answer {SlowestAnswer.TotalSeconds:F1} s; {Retries} retries by key, {FoundOnRetry} of them 201; {Violations.Count} violations";
    }
}
