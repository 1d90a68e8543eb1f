using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Trading;
using Monolith.Trading.Domain;
using Monolith.Trading.Persistence;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Faults;

/// <summary>
/// The Host process is killed (SIGKILL) while clients trade over HTTP, and started again. Orders are the write-ahead
/// log: an order placed but not filled when the Host died must not stay pending, and the restart's recovery expires
/// it, with an audit row. What it checks: every order pending at the crash, and only those, is expired by the
/// recovery, which says how many it expired; no answer is a 500; every order acknowledged is stored, and no other;
/// every trade acknowledged is stored; the account reconciles with its trades, orders and audit log.
/// </summary>
public sealed class HostCrashTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    const int Clients = 8;
    const int RequestsBeforeCrash = 300;
    const int AnswersAfterRestart = 300;

    [Theory]
    [InlineData(nameof(StrategyName.PessimisticRowLock))]
    [InlineData(nameof(StrategyName.SingleWriter))] // its queue dies with the process: what it had not committed, it had not acknowledged
    public async Task Host_killed_mid_run_restarts_and_expires_the_orders_it_left_pending(string strategy)
    {
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings:Monolith"] = database.ConnectionString,
            ["Concurrency:Strategy"] = strategy,
            // Every order still pending when the Host starts was left by the crash: the recovery expires all of them.
            ["Trading:PendingOrderMaxAge"] = "00:00:00",
        });
        var run = new TradingHttpRun(host.BaseAddress);
        await run.OpenAccountAsync();

        using var stop = new CancellationTokenSource();
        var clients = run.StartClients(Clients, stop.Token);
        await run.UntilAsync(() => run.Requests >= RequestsBeforeCrash);
        await host.KillAsync();
        var pendingAtCrash = await PendingOrdersAsync(run.AccountId);

        await Task.Delay(TimeSpan.FromSeconds(1));
        var linesBeforeRestart = host.Output.Count;
        await host.StartAsync();
        var answeredAtRestart = run.Answered;
        await run.UntilAsync(() => run.Answered >= answeredAtRestart + AnswersAfterRestart);
        await stop.CancelAsync();
        await clients;
        var violations = await run.SettleAsync();

        violations.AddRange(await CheckRecoveryAsync(run.AccountId, pendingAtCrash, host.Output.Skip(linesBeforeRestart)));
        violations.AddRange(await CheckStoredAsync(run));
        var figures = $"{run.Figures()}; {pendingAtCrash.Count} orders pending at the crash, expired by the restart";
        RaceReport.Write(strategy, $"trading over HTTP, Host killed (kill -9) and restarted, {Clients} clients", $"{figures}; {violations.Count} violations");
        output.WriteLine(figures);
        foreach (var violation in violations.Take(20)) output.WriteLine(violation);

        Assert.Empty(violations);
        Assert.True(run.NoAnswer > 0, $"no request met the crash: {figures}");
        // Every third order is left pending on purpose, so the crash leaves some: the recovery must have work to do.
        Assert.NotEmpty(pendingAtCrash);
    }

    async Task<HashSet<Guid>> PendingOrdersAsync(Guid accountId)
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TradingDbContext>();
        return (await db.Orders.Where(o => o.AccountId == accountId && o.Status == OrderStatus.Pending).Select(o => o.Id).ToListAsync()).ToHashSet();
    }

    async Task<List<string>> CheckRecoveryAsync(Guid accountId, HashSet<Guid> pendingAtCrash, IEnumerable<string> restartOutput)
    {
        var violations = new List<string>();
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TradingDbContext>();
        var orders = await db.Orders.AsNoTracking().Where(o => o.AccountId == accountId).ToDictionaryAsync(o => o.Id);
        var expiredByRecovery = (await db.Audit.AsNoTracking()
            .Where(a => a.AccountId == accountId && a.Action == "Expired" && a.Actor == "recovery").Select(a => a.EntityId).ToListAsync()).ToHashSet();

        violations.AddRange(pendingAtCrash.Where(id => orders[id].Status != OrderStatus.Expired)
            .Select(id => $"order {id} was pending at the crash and is {orders[id].Status} after the restart"));
        if (!expiredByRecovery.SetEquals(pendingAtCrash))
            violations.Add($"the recovery expired {expiredByRecovery.Count} orders; {pendingAtCrash.Count} were pending at the crash, or they differ");

        var logged = restartOutput.Select(line => Regex.Match(line, @"Trading recovery expired (\d+) order")).FirstOrDefault(m => m.Success);
        if (logged is null) violations.Add("the restart logged no Trading recovery");
        else if (int.Parse(logged.Groups[1].Value) != pendingAtCrash.Count)
            violations.Add($"the restart logged {logged.Groups[1].Value} orders expired, not the {pendingAtCrash.Count} pending at the crash");
        return violations;
    }

    async Task<List<string>> CheckStoredAsync(TradingHttpRun run)
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TradingDbContext>();
        var orders = (await db.Orders.Where(o => o.AccountId == run.AccountId).Select(o => o.Id).ToListAsync()).ToHashSet();
        var trades = (await db.Trades.Where(t => t.AccountId == run.AccountId).Select(t => t.Id).ToListAsync()).ToHashSet();
        var violations = orders.Except(run.AcknowledgedOrders).Select(id => $"order {id} is stored but no answer acknowledged it")
            .Concat(run.AcknowledgedOrders.Except(orders).Select(id => $"order {id} was acknowledged but is not stored"))
            .Concat(run.AcknowledgedTrades.Except(trades).Select(id => $"trade {id} was acknowledged but is not stored"))
            .ToList();
        violations.AddRange(await TradingInvariants.CheckAccountAsync(db, run.AccountId));
        return violations;
    }

    /// <summary>
    /// Clients that place buy orders over HTTP, each with its own Idempotency-Key, fill two in three of them and close
    /// half of the trades, pausing briefly while the Host does not answer; afterwards every request without a definite
    /// answer is sent again (a placement with its key) until it has one.
    /// </summary>
    sealed class TradingHttpRun(Uri baseAddress)
    {
        readonly ConcurrentBag<Attempt> _attempts = [];
        int _requests, _answered;

        public Guid AccountId { get; private set; }
        public int Requests => Volatile.Read(ref _requests);
        public int Answered => Volatile.Read(ref _answered);
        public int NoAnswer => _attempts.Count(a => !a.Retry && a.Status == 0);
        public HashSet<Guid> AcknowledgedOrders => _attempts.Where(a => a.Kind == Kind.Place && a.Status == 201).Select(a => a.OrderId!.Value).ToHashSet();
        public HashSet<Guid> AcknowledgedTrades => _attempts.Where(a => a.TradeId is not null).Select(a => a.TradeId!.Value).ToHashSet();

        HttpClient Client() => new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) }.As(Tester);

        public async Task OpenAccountAsync()
        {
            using var opened = await Client().PostAsJsonAsync("/api/trading/accounts",
                new { initialBalance = TradingWorkloadOptions.InitialBalance, maxDrawdownLimitPct = 100m });
            Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
            AccountId = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }

        public Task StartClients(int clients, CancellationToken stop) => Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var client = Client();
            var random = new Random(c);
            while (!stop.IsCancellationRequested)
            {
                var placed = await SendAsync(client, Kind.Place, $"/api/trading/accounts/{AccountId}/orders",
                    new { symbol = "ACME", side = "buy", shares = random.Next(1, 6), limitPrice = 100m, strategyName = "crash", reason = (string?)null },
                    Guid.NewGuid().ToString(), retry: false);
                if (placed.OrderId is not { } orderId || random.Next(3) == 0) continue;
                var filled = await SendAsync(client, Kind.Fill, $"/api/trading/orders/{orderId}/fill", new { price = random.Next(50, 101) * 1m }, null, retry: false);
                if (filled.TradeId is not { } tradeId || random.Next(2) == 0) continue;
                await SendAsync(client, Kind.Close, $"/api/trading/trades/{tradeId}/close", new { exitPrice = random.Next(50, 151) * 1m }, null, retry: false);
            }
        })));

        public async Task UntilAsync(Func<bool> condition)
        {
            while (!condition()) await Task.Delay(10);
        }

        /// <summary>Sends every request without a definite answer again, as a careful client would; returns what it could not settle.</summary>
        public async Task<List<string>> SettleAsync()
        {
            var client = Client();
            var violations = new List<string>();
            foreach (var pending in _attempts.Where(a => !a.Definite).ToList())
            {
                var last = pending;
                for (var i = 0; i < 30 && !last.Definite; i++)
                {
                    if (i > 0) await Task.Delay(500);
                    last = await SendAsync(client, pending.Kind, pending.Path, pending.Body, pending.Key, retry: true);
                }
                if (!last.Definite) violations.Add($"{pending.Kind} {pending.Path}: still {last.Status} after 30 retries");
            }
            violations.AddRange(_attempts.Where(a => a.Status >= 500 && a.Status != 503).Select(a => $"{a.Kind} {a.Path}: answered {a.Status}"));
            violations.AddRange(_attempts.Where(a => a.Status == 503 && !a.HasRetryAfter).Select(a => $"{a.Kind} {a.Path}: 503 without Retry-After"));
            violations.AddRange(_attempts.Where(a => a.Kind == Kind.Place && a.OrderId is not null).GroupBy(a => a.Key)
                .Where(g => g.Select(a => a.OrderId).Distinct().Count() > 1).Select(g => $"key {g.Key}: answered with two different orders"));
            return violations;
        }

        public string Figures()
        {
            var first = _attempts.Where(a => !a.Retry).ToList();
            string Count(Kind kind, int status) => $"{first.Count(a => a.Kind == kind && a.Status == status)}";
            return $"{first.Count} requests: placements {Count(Kind.Place, 201)} × 201, fills {Count(Kind.Fill, 200)} × 200, " +
                $"closes {Count(Kind.Close, 200)} × 200, {first.Count(a => a.Status == 422)} × 422, {first.Count(a => a.Status == 503)} × 503, " +
                $"{first.Count(a => a.Status >= 500 && a.Status != 503)} × 500, {NoAnswer} without answer; " +
                $"{_attempts.Count - first.Count} retries, {_attempts.Count(a => a.Retry && a.Definite)} of them settled";
        }

        async Task<Attempt> SendAsync(HttpClient client, Kind kind, string path, object body, string? key, bool retry)
        {
            if (!retry) Interlocked.Increment(ref _requests);
            Attempt attempt;
            try
            {
                using var response = await client.PostJsonAsync(path, body, key);
                var status = (int)response.StatusCode;
                Guid? orderId = null, tradeId = null;
                if (status is 200 or 201)
                {
                    var json = await response.Content.ReadFromJsonAsync<JsonElement>();
                    if (kind == Kind.Place) orderId = json.GetProperty("id").GetGuid();
                    if (kind == Kind.Fill && json.GetProperty("tradeId").ValueKind == JsonValueKind.String) tradeId = json.GetProperty("tradeId").GetGuid();
                    if (kind == Kind.Close) tradeId = json.GetProperty("id").GetGuid();
                }
                attempt = new Attempt(kind, path, body, key, status, orderId, tradeId, retry, response.Headers.RetryAfter is not null);
                Interlocked.Increment(ref _answered);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                attempt = new Attempt(kind, path, body, key, Status: 0, null, null, retry, false);
                await Task.Delay(50); // the Host is down: a client does not spin on a refused connection
            }
            _attempts.Add(attempt);
            return attempt;
        }
    }

    enum Kind { Place, Fill, Close }

    sealed record Attempt(Kind Kind, string Path, object Body, string? Key, int Status, Guid? OrderId, Guid? TradeId, bool Retry, bool HasRetryAfter)
    {
        /// <summary>An answer the client can act on: the write happened, or the request itself was refused.</summary>
        public bool Definite => Status is 200 or 201 or 400 or 404 or 422;
    }
}
