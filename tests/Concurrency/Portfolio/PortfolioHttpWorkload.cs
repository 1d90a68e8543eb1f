using Monolith.Lab.Invariants;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Lab;
using Monolith.Portfolio.Domain;
using Monolith.Portfolio.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Portfolio;

/// <summary>
/// Buys and sells over HTTP, many of them backdated into a position's history, from clients spread over several Hosts,
/// each request with an Idempotency-Key; afterwards every request without a definite answer is sent again with its key
/// until it has one. What it checks: no answer is a 500 (a 503 carries Retry-After); the transactions stored are exactly
/// those acknowledged; every snapshot of every position equals its recomputation from the transactions up to it.
/// </summary>
internal sealed class PortfolioHttpWorkload(IReadOnlyList<Func<HttpClient>> hosts, TestDatabase database)
{
    const int Portfolios = 2;
    readonly ConcurrentBag<Attempt> _attempts = [];
    readonly List<Guid> _positions = [];

    public async Task<Outcome> RunAsync(int clients, int requests)
    {
        var setup = Client(0);
        var token = await setup.PutAsJsonAsync("/api/portfolio/tokens/BTC", new { quoteCurrency = "USD" });
        Assert.True(token.IsSuccessStatusCode, $"registering BTC answered {(int)token.StatusCode}");
        var portfolios = new List<Guid>();
        for (var i = 0; i < Portfolios; i++)
        {
            var opened = await setup.PostJsonAsync("/api/portfolio/portfolios", new { }, null);
            var portfolio = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            var first = await SendAsync(setup, portfolio, $"initial-{portfolio}",
                Body("buy", PortfolioWorkloadOptions.InitialBuy, 100m, 90m, PortfolioWorkloadOptions.Start), retry: false);
            Assert.Equal(201, first.Status);
            _attempts.Add(first);
            portfolios.Add(portfolio);
            _positions.Add(Position.IdFor(portfolio, "BTC"));
        }

        var sent = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var client = Client(c);
            var random = new Random(c);
            while (Interlocked.Increment(ref sent) <= requests)
            {
                var trade = RandomTrade.Next(random);
                // Later than the initial buy, so that no sell lands before there is something to sell, and spread over
                // ten hours, so that most transactions are backdated behind others and rewrite the snapshots after them.
                var at = PortfolioWorkloadOptions.Start.AddMinutes(1 + random.Next(600));
                var body = Body(trade.Side.ToString().ToLowerInvariant(), trade.Quantity, trade.UnitPrice, trade.LocalUnitPrice, at);
                _attempts.Add(await SendAsync(client, portfolios[random.Next(Portfolios)], Guid.NewGuid().ToString(), body, retry: false));
            }
        })));

        var unresolved = new List<string>();
        var settle = Enumerable.Range(0, hosts.Count).Select(Client).ToList();
        foreach (var (pending, index) in _attempts.Where(a => !a.Definite).ToList().Select((p, i) => (p, i)))
        {
            var last = pending;
            for (var i = 0; i < 30 && !last.Definite; i++)
            {
                if (i > 0) await Task.Delay(500);
                last = await SendAsync(settle[(index + i) % settle.Count], pending.Portfolio, pending.Key, pending.Body, retry: true);
                _attempts.Add(last);
            }
            if (!last.Definite) unresolved.Add($"key {pending.Key}: still {last.Status} after 30 retries");
        }
        return await CheckAsync(unresolved);
    }

    HttpClient Client(int index)
    {
        var client = hosts[index % hosts.Count]().As(Tester);
        client.Timeout = TimeSpan.FromSeconds(60);
        return client;
    }

    static object Body(string side, decimal quantity, decimal unitPrice, decimal localUnitPrice, DateTimeOffset executedAt) =>
        new { symbol = "BTC", side, quantity, unitPrice, localUnitPrice, executedAt = executedAt.ToString("O") };

    static async Task<Attempt> SendAsync(HttpClient client, Guid portfolio, string key, object body, bool retry)
    {
        try
        {
            using var response = await client.PostJsonAsync($"/api/portfolio/portfolios/{portfolio}/transactions", body, key);
            var status = (int)response.StatusCode;
            long? id = status == 201 ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("transactionId").GetInt64() : null;
            return new Attempt(portfolio, key, body, status, id, retry, response.Headers.RetryAfter is not null);
        }
        catch (Exception e) when (e is TaskCanceledException or HttpRequestException)
        {
            return new Attempt(portfolio, key, body, 0, null, retry, false);
        }
    }

    async Task<Outcome> CheckAsync(List<string> violations)
    {
        foreach (var a in _attempts.Where(a => a.Status >= 500 && a.Status != 503)) violations.Add($"key {a.Key}: answered {a.Status}");
        foreach (var a in _attempts.Where(a => a.Status == 503 && !a.HasRetryAfter)) violations.Add($"key {a.Key}: 503 without Retry-After");
        var acknowledged = _attempts.Where(a => a.Id is not null).Select(a => a.Id!.Value).ToHashSet();

        // Hosts on other nodes of a cluster: the node checked may not have applied their last commits yet.
        violations.AddRange(await NodesAgree.CheckCaughtUpAsync(() => CheckStoredAsync(acknowledged)));

        var first = _attempts.Where(a => !a.Retry).ToList();
        return new Outcome(first.Count, first.Count(a => a.Status == 201), first.Count(a => a.Status == 422), first.Count(a => a.Status == 409),
            first.Count(a => a.Status == 503), first.Count(a => a.Status == 0), _attempts.Count - first.Count, violations);
    }

    async Task<List<string>> CheckStoredAsync(HashSet<long> acknowledged)
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortfolioDbContext>();
        var stored = (await db.Transactions.Where(t => _positions.Contains(t.PositionId)).Select(t => t.Id).ToListAsync()).ToHashSet();
        var violations = stored.Except(acknowledged).Select(id => $"transaction {id} is stored but no answer acknowledged it")
            .Concat(acknowledged.Except(stored).Select(id => $"transaction {id} was acknowledged but is not stored"))
            .ToList();
        foreach (var position in _positions) violations.AddRange(await PortfolioInvariants.CheckPositionAsync(db, position));
        return violations;
    }

    sealed record Attempt(Guid Portfolio, string Key, object Body, int Status, long? Id, bool Retry, bool HasRetryAfter)
    {
        /// <summary>201, or a refusal the request earned (an oversell: 422).</summary>
        public bool Definite => Status is 201 or 422 or 400;
    }

    public sealed record Outcome(int Requests, int Created, int Refused, int Contention, int Unavailable, int NoAnswer, int Retries, List<string> Violations)
    {
        public override string ToString() =>
            $"{Requests} requests: {Created} × 201, {Refused} × 422, {Contention} × 409, {Unavailable} × 503, {NoAnswer} without answer; " +
            $"{Retries} retries by key; {Violations.Count} violations";
    }
}
