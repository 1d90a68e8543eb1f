using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Trading.Domain;
using Monolith.Trading.Features;
using Monolith.Trading.Persistence;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Trading;

/// <summary>Redis, the lock service, stops in the middle of a run and comes back: RedisLock must fail closed, lose nothing, and recover.</summary>
public sealed class RedisOutageTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Redis_stopped_mid_run_fails_closed_loses_nothing_and_recovers()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var services = database.Services(nameof(StrategyName.RedisLock), settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.Configuration,
        });
        var options = new TradingWorkloadOptions(Workers: 16, OperationsPerWorker: 30);
        var total = options.Workers * options.OperationsPerWorker;
        var workload = new TradingWorkload(services);

        var result = await workload.RunAsync(options, seed: 5, beforeOperation: async n =>
        {
            if (n == total / 3)
            {
                await redis.StopAsync();
                workload.LockServiceDown = true;
            }
            else if (n == 2 * total / 3)
            {
                workload.LockServiceDown = false;
                await redis.StartAgainAsync();
            }
        });
        RaceReport.Write(nameof(StrategyName.RedisLock), $"trading, Redis stopped for the middle third, {options.Workers} workers", result.ToString());
        output.WriteLine(result.ToString());
        foreach (var violation in result.Violations.Take(20)) output.WriteLine(violation);

        Assert.True(result.Unavailable > 0, "no operation met the outage");
        Assert.True(workload.WroteWhileLockServiceDown == 0, $"{workload.WroteWhileLockServiceDown} operations wrote while Redis was down");
        Assert.Empty(result.Violations);

        // Back: the strategy writes again once the connection has come back.
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var after = await EventuallyAsync(() => mediator.Send(new PlaceOrder(Tester, workload.AccountId, "ACME", OrderSide.Buy, 1m, 100m, "after-outage")));
        Assert.Equal(OrderStatus.Pending, after.Status);
    }

    [Fact]
    public async Task Redis_frozen_mid_run_fails_closed_with_503_only_and_recovers()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var services = database.Services(nameof(StrategyName.RedisLock), settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.Configuration,
        });
        var options = new TradingWorkloadOptions(Workers: 16, OperationsPerWorker: 30);
        var workload = new TradingWorkload(services);
        Task? thaw = null;

        // Every failure the workload meets must be a 503 (ServiceUnavailableException): anything else escapes and fails the run.
        var result = await workload.RunAsync(options, seed: 7, beforeOperation: n =>
        {
            if (n == options.Workers * options.OperationsPerWorker / 3)
            {
                redis.Freeze();
                // Longer than the Redis client's 2 s timeouts, so that calls in flight time out rather than wait it out.
                thaw = Task.Delay(TimeSpan.FromSeconds(10)).ContinueWith(_ => redis.Thaw());
            }
            return Task.CompletedTask;
        });
        if (thaw is not null) await thaw;
        RaceReport.Write(nameof(StrategyName.RedisLock), $"trading, Redis frozen (SIGSTOP) for 10 s, {options.Workers} workers", result.ToString());
        output.WriteLine(result.ToString());
        foreach (var violation in result.Violations.Take(20)) output.WriteLine(violation);

        Assert.True(result.Unavailable > 0, "no operation met the freeze");
        Assert.Empty(result.Violations);
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var after = await EventuallyAsync(() => mediator.Send(new PlaceOrder(Tester, workload.AccountId, "ACME", OrderSide.Buy, 1m, 100m, "after-freeze")));
        Assert.Equal(OrderStatus.Pending, after.Status);
    }

    [Fact]
    public async Task With_Redis_down_health_is_degraded_not_unhealthy_and_answers()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:Monolith", database.ConnectionString)
            .UseSetting("ConnectionStrings:Redis", redis.Configuration)
            .UseSetting("Concurrency:Modules:Trading", nameof(StrategyName.RedisLock)));
        var client = factory.CreateClient().As(Tester);
        var up = await client.GetFromJsonAsync<JsonElement>("/health");
        Assert.Equal("Healthy", up.GetProperty("status").GetString());

        redis.Freeze();
        try
        {
            var frozen = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, frozen.StatusCode);
            var report = await frozen.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("Degraded", report.GetProperty("status").GetString());
            Assert.Equal("Degraded", report.GetProperty("checks").GetProperty("redis-lock").GetProperty("status").GetString());
            Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("ledger-database").GetProperty("status").GetString());
        }
        finally { redis.Thaw(); }
    }

    [Fact]
    public async Task With_Redis_down_the_API_answers_503_with_Retry_After_and_writes_nothing()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:Monolith", database.ConnectionString)
            .UseSetting("ConnectionStrings:Redis", redis.Configuration)
            .UseSetting("Concurrency:Modules:Trading", nameof(StrategyName.RedisLock)));
        var client = factory.CreateClient().As(Tester);
        var opened = await client.PostJsonAsync("/api/trading/accounts", new { initialBalance = 10_000m, maxDrawdownLimitPct = 50m });
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        var account = (await opened.Content.ReadFromJsonAsync<TradingAccountResponse>())!.Id;

        await redis.StopAsync();
        var order = await client.PostJsonAsync($"/api/trading/accounts/{account}/orders",
            new { symbol = "ACME", side = "buy", shares = 1m, limitPrice = 10m, strategyName = "test" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, order.StatusCode);
        Assert.NotNull(order.Headers.RetryAfter);
        Assert.Equal("application/problem+json", order.Content.Headers.ContentType?.MediaType);
        // The Redis client's state (its endpoint, the failing command) belongs in the log, not in the answer.
        var detail = (await order.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.DoesNotContain(redis.Configuration.Split(':')[0], detail);
        Assert.DoesNotContain("Socket", detail);
        Assert.DoesNotContain("EVAL", detail);

        await using var scope = factory.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<TradingDbContext>().Orders.AnyAsync(o => o.AccountId == account));
    }

    static async Task<T> EventuallyAsync<T>(Func<Task<T>> write)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60); // a bound for a broken reconnect, not a measurement
        while (true)
        {
            try { return await write(); }
            catch (ServiceUnavailableException) when (DateTime.UtcNow < deadline) { await Task.Delay(100); }
        }
    }
}
