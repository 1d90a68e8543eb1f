using Monolith.Ledger.Domain;
using Monolith.Portfolio.Domain;
using Monolith.Shared;
using Monolith.Shared.Behaviors;
using Monolith.Shared.Errors;
using Monolith.Trading.Domain;

namespace Monolith.Tests.Unit;

/// <summary>
/// Every amount is capped by its validator, but totals grow: each total is refused (422) before it passes what its
/// NUMERIC(28, 8) column stores, instead of the database refusing it with a 500.
/// </summary>
public sealed class TotalsTests
{
    static readonly DateTimeOffset Now = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_credit_that_would_pass_the_largest_balance_is_refused_and_changes_nothing()
    {
        var account = Account.Open("someone", "EUR", overdraftLimit: 0m);
        var credits = 0;
        while (account.Balance + Rules.MaxAmount <= Money.MaxStored)
        {
            account.Post(Rules.MaxAmount, Guid.CreateVersion7(), OperationKind.Deposit);
            credits++;
        }
        var before = account.Balance;

        var refusal = Assert.Throws<BusinessRuleException>(() => account.Post(Rules.MaxAmount, Guid.CreateVersion7(), OperationKind.Deposit));

        Assert.Equal("Balance limit", refusal.Title);
        Assert.Equal(100, credits);
        Assert.Equal(before, account.Balance);
    }

    [Fact]
    public void A_buy_that_would_pass_the_largest_holding_is_refused_and_changes_nothing()
    {
        var position = Position.Open(Guid.CreateVersion7(), "ETH");
        var holding = Holding.None;
        for (var hour = 0; holding.Amount + Rules.MaxAmount <= Money.MaxStored; hour++)
            holding = position.Record(TokenTransaction.Record(position.Id, TradeSide.Buy, Rules.MaxAmount, 1m, 1m, Now.AddHours(hour)), holding, []).Holding;

        var refusal = Assert.Throws<BusinessRuleException>(() =>
            position.Record(TokenTransaction.Record(position.Id, TradeSide.Buy, Rules.MaxAmount, 1m, 1m, Now.AddDays(30)), holding, []));

        Assert.Equal("Holding limit", refusal.Title);
        Assert.Equal(holding.Amount, position.Amount);
    }

    [Fact]
    public void Every_trade_an_account_may_open_closes_at_the_highest_accepted_price_within_the_columns()
    {
        var account = TradingAccount.Open("test", Rules.MaxAmount, maxDrawdownLimitPct: 100m, Now);
        var open = new List<Trade>();
        // Keep opening the largest trades the balance affords for as long as the account may carry them.
        while (true)
        {
            var order = Order.Place(account.Id, "ABC", OrderSide.Buy, shares: Rules.MaxQuantity, limitPrice: Rules.MaxQuantity, "unit");
            var cost = order.CostAt(1m);
            if (!account.CanAfford(cost) || !account.CanCarry(order.Shares)) break;
            order.Fill(1m);
            account.Reserve(cost, order.Shares, "test", Now);
            open.Add(Trade.Open(order, 1m, Now));
            if (open.Count > 1_000) throw new InvalidOperationException("CanCarry never refused");
        }

        Assert.NotEmpty(open);
        foreach (var trade in open)
            account.Settle(trade.Cost, trade.Shares, trade.Close(Rules.MaxQuantity, Now), "test", Now);
        Assert.True(account.CurrentBalance <= Money.MaxStored, $"balance {account.CurrentBalance}");
        Assert.True(account.CumulativePnl <= Money.MaxStored && account.PeakEquity <= Money.MaxStored);
        Assert.Equal(0m, account.OpenShares);
    }
}
