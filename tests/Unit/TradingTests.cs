using Monolith.Shared.Errors;
using Monolith.Trading.Domain;

namespace Monolith.Tests.Unit;

/// <summary>P&amp;L, drawdown and the state machines of orders, trades and accounts, without a database.</summary>
public sealed class TradingTests
{
    static readonly DateTimeOffset Now = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    static (TradingAccount Account, Order Order) Pending(OrderSide side, decimal shares = 10m, decimal limit = 100m, decimal balance = 10_000m)
    {
        var account = TradingAccount.Open("test", balance, maxDrawdownLimitPct: 10m, Now);
        return (account, Order.Place(account.Id, "ABC", side, shares, limit, "unit"));
    }

    [Theory]
    [InlineData(OrderSide.Buy, "110", "100")]
    [InlineData(OrderSide.Buy, "90", "-100")]
    [InlineData(OrderSide.Sell, "90", "100")]
    [InlineData(OrderSide.Sell, "110", "-100")]
    public void A_long_gains_when_the_price_rises_and_a_short_when_it_falls(OrderSide side, string exit, string pnl)
    {
        var (_, order) = Pending(side);
        order.Fill(100m);
        var trade = Trade.Open(order, 100m, Now);
        Assert.Equal(decimal.Parse(pnl), trade.Close(decimal.Parse(exit), Now));
    }

    [Fact]
    public void A_trade_closes_once()
    {
        var (_, order) = Pending(OrderSide.Buy);
        order.Fill(100m);
        var trade = Trade.Open(order, 100m, Now);
        trade.Close(101m, Now);
        Assert.Equal("Trade already closed", Assert.Throws<BusinessRuleException>(() => trade.Close(102m, Now)).Title);
        Assert.Equal(101m, trade.ExitPrice);
    }

    [Fact]
    public void Cost_and_pnl_round_half_to_even_to_eight_places()
    {
        var (_, order) = Pending(OrderSide.Buy, shares: 0.5m, limit: 1m);
        Assert.Equal(0.00000000m, order.CostAt(0.00000001m)); // 0.000000005 → 0.00000000 (to even)
        Assert.Equal(0.00000002m, order.CostAt(0.00000003m)); // 0.000000015 → 0.00000002
    }

    [Fact]
    public void An_order_fills_only_within_its_limit_and_leaves_pending_once()
    {
        var (_, buy) = Pending(OrderSide.Buy, limit: 100m);
        Assert.Equal("Price outside limit", Assert.Throws<BusinessRuleException>(() => buy.Fill(100.01m)).Title);
        buy.Fill(99m);
        Assert.Equal(OrderStatus.Filled, buy.Status);
        Assert.Equal("Order not pending", Assert.Throws<BusinessRuleException>(() => buy.End(OrderStatus.Cancelled, "late")).Title);

        var (_, sell) = Pending(OrderSide.Sell, limit: 100m);
        Assert.Throws<BusinessRuleException>(() => sell.Fill(99.99m));
        Assert.Throws<ArgumentOutOfRangeException>(() => sell.End(OrderStatus.Filled, "no"));
        sell.End(OrderStatus.Expired, "stale");
        Assert.Equal(OrderStatus.Expired, sell.Status);
    }

    [Theory]
    [InlineData(AccountStatus.Active, AccountStatus.Suspended, true)]
    [InlineData(AccountStatus.Active, AccountStatus.Closed, true)]
    [InlineData(AccountStatus.Suspended, AccountStatus.Active, true)]
    [InlineData(AccountStatus.Suspended, AccountStatus.Closed, true)]
    [InlineData(AccountStatus.Active, AccountStatus.Active, false)]
    [InlineData(AccountStatus.Closed, AccountStatus.Active, false)]
    [InlineData(AccountStatus.Closed, AccountStatus.Suspended, false)]
    public void The_account_state_machine(AccountStatus from, AccountStatus to, bool allowed)
    {
        var (account, _) = Pending(OrderSide.Buy);
        if (from != AccountStatus.Active) account.MoveTo(from, "test", Now);
        if (allowed)
        {
            account.MoveTo(to, "test", Now);
            Assert.Equal(to, account.Status);
        }
        else Assert.Equal("Transition not allowed", Assert.Throws<BusinessRuleException>(() => account.MoveTo(to, "test", Now)).Title);
    }

    [Fact]
    public void A_loss_past_the_drawdown_limit_suspends_the_account_and_it_cannot_resume()
    {
        var (account, order) = Pending(OrderSide.Buy, shares: 10m, limit: 100m, balance: 10_000m);
        order.Fill(100m);
        var trade = Trade.Open(order, 100m, Now);
        account.Reserve(trade.Cost, trade.Shares, "test", Now);
        Assert.Equal(9_000m, account.CurrentBalance);

        account.Settle(trade.Cost, trade.Shares, trade.Close(0m, Now), "test", Now); // equity 10,000 → 9,000: a 10 % fall
        Assert.Equal((9_000m, -1_000m, 10_000m, 10m), (account.CurrentBalance, account.CumulativePnl, account.PeakEquity, account.MaxDrawdownPct));
        Assert.Equal(AccountStatus.Suspended, account.Status);
        Assert.Equal("Drawdown limit reached", Assert.Throws<BusinessRuleException>(() => account.MoveTo(AccountStatus.Active, "test", Now)).Title);
    }

    [Theory]
    [InlineData("100", "0", "90", "100", "10")]
    [InlineData("100", "10", "95", "100", "10")] // a smaller fall keeps the larger max
    [InlineData("100", "10", "120", "120", "10")] // a new peak
    [InlineData("100", "0", "-5", "100", "100")] // below zero is a 100 % fall, not more
    [InlineData("3", "0", "2", "3", "33.33333333")] // rounded half to even to 8 places
    public void Drawdown_is_the_largest_fall_from_the_peak_in_percent(string peak, string max, string equity, string newPeak, string newMax) =>
        Assert.Equal((decimal.Parse(newPeak), decimal.Parse(newMax)), Drawdown.After(decimal.Parse(peak), decimal.Parse(max), decimal.Parse(equity)));
}
