using Monolith.Lab.Invariants;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Lab;
using Monolith.Portfolio.Domain;
using Monolith.Portfolio.Features;
using Monolith.Portfolio.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Portfolio;

/// <summary>The mean-price rule, backdating and the queries, one writer at a time, figures worked out by hand.</summary>
public sealed class PortfolioRulesTests(TestDatabase database) : IClassFixture<TestDatabase>, IAsyncLifetime
{
    static readonly DateTimeOffset Day = new(2023, 1, 5, 0, 0, 0, TimeSpan.Zero);
    readonly ServiceProvider _services = database.Services(nameof(StrategyName.PessimisticRowLock));

    public Task InitializeAsync() => SendAsync(new RegisterToken(Tester, "ETH", "USD"));
    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task A_buy_moves_the_means_a_sell_keeps_them_and_zero_resets_them()
    {
        var portfolio = await OpenAsync();
        Assert.Equal((10m, 100m, 90m), Of(await RecordAsync(portfolio, TradeSide.Buy, 10m, 100m, 90m, Day.AddHours(1))));
        Assert.Equal((20m, 150m, 135m), Of(await RecordAsync(portfolio, TradeSide.Buy, 10m, 200m, 180m, Day.AddHours(2))));
        Assert.Equal((5m, 150m, 135m), Of(await RecordAsync(portfolio, TradeSide.Sell, 15m, 500m, 450m, Day.AddHours(3))));
        Assert.Equal((0m, 0m, 0m), Of(await RecordAsync(portfolio, TradeSide.Sell, 5m, 500m, 450m, Day.AddHours(4))));
        Assert.Equal((3m, 7m, 6m), Of(await RecordAsync(portfolio, TradeSide.Buy, 3m, 7m, 6m, Day.AddHours(5))));
    }

    [Fact]
    public async Task A_backdated_transaction_rewrites_every_later_snapshot()
    {
        var portfolio = await OpenAsync();
        await RecordAsync(portfolio, TradeSide.Buy, 10m, 100m, 90m, Day.AddHours(1));
        await RecordAsync(portfolio, TradeSide.Buy, 10m, 200m, 180m, Day.AddHours(3));
        await RecordAsync(portfolio, TradeSide.Sell, 4m, 300m, 270m, Day.AddHours(4));

        var backdated = await RecordAsync(portfolio, TradeSide.Sell, 5m, 120m, 110m, Day.AddHours(2));
        Assert.Equal((5m, 100m, 90m), Of(backdated));

        var history = await SendAsync(new GetHistory(Tester, portfolio, "ETH"));
        Assert.Equal(
            [(10m, 100m, 90m), (5m, 100m, 90m), (15m, 166.66666667m, 150m), (11m, 166.66666667m, 150m)],
            history.Items.Select(i => (i.Amount, i.MeanPrice, i.LocalMeanPrice)));
        Assert.Equal([1, 2, 3, 4], history.Items.Select(i => (i.ExecutedAt - Day).Hours));
        await AssertSoundAsync(portfolio);
    }

    [Fact]
    public async Task A_backdated_sell_that_would_oversell_a_later_snapshot_is_refused_and_changes_nothing()
    {
        var portfolio = await OpenAsync();
        await RecordAsync(portfolio, TradeSide.Buy, 10m, 100m, 90m, Day.AddHours(1));
        await RecordAsync(portfolio, TradeSide.Sell, 8m, 100m, 90m, Day.AddHours(3));
        var before = await SendAsync(new GetHistory(Tester, portfolio, "ETH"));

        // Alone at 02:00 the sell leaves 5, but the 03:00 sell of 8 would then leave -3.
        var refused = await Assert.ThrowsAsync<BusinessRuleException>(() => RecordAsync(portfolio, TradeSide.Sell, 5m, 100m, 90m, Day.AddHours(2)));
        Assert.Equal("Oversell", refused.Title);
        Assert.Contains("-3", refused.Message);
        Assert.Equal(before.Items, (await SendAsync(new GetHistory(Tester, portfolio, "ETH"))).Items);
        await AssertSoundAsync(portfolio);
    }

    [Fact]
    public async Task Holdings_and_one_token_as_of_an_instant()
    {
        var portfolio = await OpenAsync();
        await SendAsync(new RegisterToken(Tester, "SOL", "USD"));
        await RecordAsync(portfolio, TradeSide.Buy, 2m, 1000m, 900m, Day.AddHours(1));
        await SendAsync(new RecordTransaction(Tester, portfolio, "SOL", TradeSide.Buy, 50m, 10m, 9m, Day.AddHours(2)));
        await RecordAsync(portfolio, TradeSide.Sell, 2m, 1500m, 1400m, Day.AddHours(3));

        Assert.Empty((await SendAsync(new GetHoldings(Tester, portfolio, Day))).Items);
        Assert.Equal([new HoldingItem("ETH", 2m, 1000m, 900m)], (await SendAsync(new GetHoldings(Tester, portfolio, Day.AddHours(1)))).Items);
        Assert.Equal([new HoldingItem("ETH", 2m, 1000m, 900m), new HoldingItem("SOL", 50m, 10m, 9m)],
            (await SendAsync(new GetHoldings(Tester, portfolio, Day.AddHours(2).AddMinutes(30)))).Items);
        Assert.Equal([new HoldingItem("SOL", 50m, 10m, 9m)], (await SendAsync(new GetHoldings(Tester, portfolio, Day.AddDays(1)))).Items);

        var eth = await SendAsync(new GetHolding(Tester, portfolio, "ETH", Day.AddHours(2)));
        Assert.Equal((2m, 1000m, 900m), (eth.Amount, eth.MeanPrice, eth.LocalMeanPrice));
        Assert.Null((await SendAsync(new GetHolding(Tester, portfolio, "ETH", Day))).AfterTransactionId);
        await Assert.ThrowsAsync<NotFoundException>(() => SendAsync(new GetHoldings(Tester, Guid.NewGuid(), Day)));
    }

    [Fact]
    public async Task History_pages_follow_execution_order_and_the_cursor()
    {
        var portfolio = await OpenAsync();
        foreach (var hour in new[] { 5, 1, 3, 2, 4 })
            await RecordAsync(portfolio, TradeSide.Buy, hour, 10m * hour, 9m * hour, Day.AddHours(hour));

        var first = await SendAsync(new GetHistory(Tester, portfolio, "ETH", Limit: 2));
        var second = await SendAsync(new GetHistory(Tester, portfolio, "ETH", Limit: 2, After: first.Next));
        var third = await SendAsync(new GetHistory(Tester, portfolio, "ETH", Limit: 2, After: second.Next));
        Assert.Equal([1m, 2m, 3m, 4m, 5m], first.Items.Concat(second.Items).Concat(third.Items).Select(i => i.Quantity));
        Assert.Null(third.Next);
        await Assert.ThrowsAsync<InvalidCursorException>(() => SendAsync(new GetHistory(Tester, portfolio, "ETH", After: 999_999)));
    }

    static (decimal, decimal, decimal) Of(TransactionResponse r) => (r.Amount, r.MeanPrice, r.LocalMeanPrice);

    async Task<Guid> OpenAsync() => (await SendAsync(new OpenPortfolio(Tester))).Id;

    Task<TransactionResponse> RecordAsync(Guid portfolio, TradeSide side, decimal quantity, decimal price, decimal localPrice, DateTimeOffset at) =>
        SendAsync(new RecordTransaction(Tester, portfolio, "ETH", side, quantity, price, localPrice, at));

    async Task<T> SendAsync<T>(IRequest<T> request)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    async Task AssertSoundAsync(Guid portfolio)
    {
        await using var scope = _services.CreateAsyncScope();
        Assert.Empty(await PortfolioInvariants.CheckPositionAsync(scope.ServiceProvider.GetRequiredService<PortfolioDbContext>(), Position.IdFor(portfolio, "ETH")));
    }
}
