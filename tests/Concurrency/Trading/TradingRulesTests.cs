using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Trading;
using Monolith.Trading.Domain;
using Monolith.Trading.Features;
using Monolith.Trading.Persistence;

namespace Monolith.Tests.Concurrency.Trading;

/// <summary>The state machines, P&amp;L and drawdown, recovery and the API, one writer at a time, figures worked out by hand.</summary>
public sealed class TradingRulesTests(TestDatabase database) : IClassFixture<TestDatabase>, IAsyncLifetime
{
    readonly ServiceProvider _services = database.Services(nameof(StrategyName.PessimisticRowLock));

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task A_round_trip_moves_balance_pnl_and_drawdown_and_audits_every_change()
    {
        var account = (await SendAsync(new OpenTradingAccount(Tester, 10_000m, 50m))).Id;
        var buy = await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 10m, 100m, "momentum", "breakout"));
        var filled = await SendAsync(new FillOrder(Tester, buy.Id, 99.5m));
        Assert.Equal(OrderStatus.Filled, filled.Status);
        Assert.Equal(9_005m, (await SendAsync(new GetTradingAccount(Tester, account))).CurrentBalance); // 10,000 - 10 × 99.5

        var closed = await SendAsync(new CloseTrade(Tester, filled.TradeId!.Value, 90m));
        Assert.Equal(-95m, closed.Pnl); // (90 - 99.5) × 10
        var after = await SendAsync(new GetTradingAccount(Tester, account));
        Assert.Equal((9_905m, -95m, 10_000m, 0.95m), (after.CurrentBalance, after.CumulativePnl, after.PeakEquity, after.MaxDrawdownPct));

        var again = await Assert.ThrowsAsync<BusinessRuleException>(() => SendAsync(new CloseTrade(Tester, filled.TradeId!.Value, 120m)));
        Assert.Equal("Trade already closed", again.Title);
        var audit = await SendAsync(new GetAudit(Tester, account));
        Assert.Equal(["Opened", "Placed", "Filled", "Opened", "Closed"], audit.Items.Select(a => a.Action).Where(a => !a.StartsWith("Reserved") && !a.StartsWith("Settled")));
        await AssertSoundAsync(account);
    }

    [Fact]
    public async Task Trades_come_in_bounded_pages_that_together_list_each_trade_once()
    {
        var account = (await SendAsync(new OpenTradingAccount(Tester, 10_000m, 50m))).Id;
        var opened = new List<Guid>();
        for (var i = 0; i < 5; i++)
            opened.Add((await SendAsync(new FillOrder(Tester, (await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 1m, 10m, "s"))).Id, 10m))).TradeId!.Value);

        var listed = new List<Guid>();
        Guid? after = null;
        while (true)
        {
            var page = await SendAsync(new GetTrades(Tester, account, Limit: 2, After: after));
            Assert.InRange(page.Count, 0, 2);
            if (page.Count == 0) break;
            listed.AddRange(page.Select(t => t.Id));
            after = page[^1].Id;
        }
        Assert.Equal(opened.Order(), listed.Order());
        Assert.Equal(listed.Count, listed.Distinct().Count());
        await Assert.ThrowsAsync<FluentValidation.ValidationException>(() => SendAsync(new GetTrades(Tester, account, Limit: GetTrades.MaxLimit + 1)));
        await Assert.ThrowsAsync<InvalidCursorException>(() => SendAsync(new GetTrades(Tester, account, After: Guid.NewGuid())));
    }

    [Fact]
    public async Task A_short_sell_earns_when_the_price_falls_and_crossing_the_drawdown_limit_suspends_the_account()
    {
        var account = (await SendAsync(new OpenTradingAccount(Tester, 1_000m, 10m))).Id;
        var shortSell = await SendAsync(new FillOrder(Tester, (await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Sell, 5m, 20m, "mean-revert"))).Id, 20m));
        Assert.Equal(10m, (await SendAsync(new CloseTrade(Tester, shortSell.TradeId!.Value, 18m))).Pnl); // (20 - 18) × 5

        var loser = await SendAsync(new FillOrder(Tester, (await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 10m, 50m, "momentum"))).Id, 50m));
        var pending = await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 1m, 10m, "momentum"));
        await SendAsync(new CloseTrade(Tester, loser.TradeId!.Value, 38m)); // -120: equity 890 from a peak of 1,010
        var suspended = await SendAsync(new GetTradingAccount(Tester, account));
        Assert.Equal(AccountStatus.Suspended, suspended.Status);
        Assert.Equal(11.88118812m, suspended.MaxDrawdownPct); // 120 / 1,010 × 100 = 11.881188118…, to 8 places

        Assert.Equal("Account not active", (await Assert.ThrowsAsync<BusinessRuleException>(() =>
            SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 1m, 10m, "momentum")))).Title);
        var rejected = await SendAsync(new FillOrder(Tester, pending.Id, 10m));
        Assert.Equal(OrderStatus.Rejected, rejected.Status);
        Assert.Equal("Drawdown limit reached", (await Assert.ThrowsAsync<BusinessRuleException>(() =>
            SendAsync(new ChangeAccountStatus(Tester, account, AccountStatus.Active)))).Title);
        Assert.Equal(AccountStatus.Closed, (await SendAsync(new ChangeAccountStatus(Tester, account, AccountStatus.Closed))).Status);
        Assert.Equal("Transition not allowed", (await Assert.ThrowsAsync<BusinessRuleException>(() =>
            SendAsync(new ChangeAccountStatus(Tester, account, AccountStatus.Suspended)))).Title);
        await AssertSoundAsync(account);
    }

    [Fact]
    public async Task Orders_fill_only_within_their_limit_and_only_while_pending()
    {
        var account = (await SendAsync(new OpenTradingAccount(Tester, 1_000m, 50m))).Id;
        var buy = await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 1m, 10m, "s"));
        Assert.Equal("Price outside limit", (await Assert.ThrowsAsync<BusinessRuleException>(() => SendAsync(new FillOrder(Tester, buy.Id, 10.01m)))).Title);
        Assert.Equal(OrderStatus.Cancelled, (await SendAsync(new CancelOrder(Tester, buy.Id))).Status);
        Assert.Equal("Order not pending", (await Assert.ThrowsAsync<BusinessRuleException>(() => SendAsync(new FillOrder(Tester, buy.Id, 9m)))).Title);

        var tooBig = await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 100m, 10m, "s"));
        var rejected = await SendAsync(new FillOrder(Tester, tooBig.Id, 10m)); // 1,000 would leave the balance at zero
        Assert.Equal(OrderStatus.Rejected, rejected.Status);
        Assert.Equal(1_000m, (await SendAsync(new GetTradingAccount(Tester, account))).CurrentBalance);
        await AssertSoundAsync(account);
    }

    [Fact]
    public async Task Start_up_recovery_expires_orders_left_pending_with_an_audit_row()
    {
        var account = (await SendAsync(new OpenTradingAccount(Tester, 1_000m, 50m))).Id;
        var stale = await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 1m, 10m, "s"));
        await SendAsync(new FillOrder(Tester, (await SendAsync(new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 1m, 10m, "s"))).Id, 10m));

        var expired = await SendAsync(new ExpirePendingOrders(TimeSpan.Zero));
        Assert.True(expired >= 1);
        Assert.Equal(OrderStatus.Expired, (await SendAsync(new GetOrder(Tester, stale.Id))).Status);
        Assert.Contains((await SendAsync(new GetAudit(Tester, account))).Items, a => a.EntityId == stale.Id && a.Action == "Expired" && a.Actor == "recovery");
        Assert.Equal(0, await SendAsync(new ExpirePendingOrders(TimeSpan.FromDays(1))));
        await AssertSoundAsync(account);
    }

    [Fact]
    public async Task The_API_validates_input_and_reports_problems()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        var client = factory.CreateClient().As(Tester);
        var bad = await client.PostJsonAsync("/api/trading/accounts", new { initialBalance = -1m, maxDrawdownLimitPct = 101m });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("initialBalance", out _) && errors.TryGetProperty("maxDrawdownLimitPct", out _), errors.ToString());

        var opened = await client.PostJsonAsync("/api/trading/accounts", new { initialBalance = 1_000m, maxDrawdownLimitPct = 20m });
        var account = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var invalidOrder = await client.PostJsonAsync($"/api/trading/accounts/{account}/orders", new { symbol = "acme", side = "hold", shares = 0m, limitPrice = 1m, strategyName = "" });
        var orderErrors = (await invalidOrder.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "symbol", "side", "shares", "strategyName" }) Assert.True(orderErrors.TryGetProperty(field, out _), field);

        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/trading/accounts/{account}/orders")
        {
            Content = JsonContent.Create(new { symbol = "ACME", side = "buy", shares = 1m, limitPrice = 10m, strategyName = "s" }),
        };
        // The header that named the actor before tokens did: the audit log must not take it.
        request.Headers.Add("X-Actor", "strategy-7");
        request.Headers.Add(IIdempotentCommand.Header, "order-with-actor");
        var placed = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await client.PostAsync($"/api/trading/accounts/{account}/resume", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostJsonAsync($"/api/trading/orders/{Guid.NewGuid()}/fill", new { price = 1m })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/trading/accounts/{account}/trades?status=sideways")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/trading/accounts/{account}/trades?status=1")).StatusCode);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>($"/api/trading/accounts/{account}/trades?status=Open")).GetArrayLength());
        var audit = await client.GetFromJsonAsync<JsonElement>($"/api/trading/accounts/{account}/audit?limit=1");
        Assert.Equal(JsonValueKind.Number, audit.GetProperty("next").ValueKind);
        var page2 = await client.GetFromJsonAsync<JsonElement>($"/api/trading/accounts/{account}/audit?limit=10&after={audit.GetProperty("next").GetInt64()}");
        Assert.Equal(Tester.Subject, page2.GetProperty("items")[0].GetProperty("actor").GetString());
    }

    async Task<T> SendAsync<T>(IRequest<T> request)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    async Task AssertSoundAsync(Guid account)
    {
        await using var scope = _services.CreateAsyncScope();
        Assert.Empty(await TradingInvariants.CheckAccountAsync(scope.ServiceProvider.GetRequiredService<TradingDbContext>(), account));
    }
}
