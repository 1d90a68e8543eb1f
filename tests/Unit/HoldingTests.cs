using Monolith.Portfolio.Domain;
using Monolith.Shared.Errors;

namespace Monolith.Tests.Unit;

/// <summary>The mean acquisition price and backdating as pure functions of the transactions, figures worked out by hand.</summary>
public sealed class HoldingTests
{
    static readonly DateTimeOffset Day = new(2023, 1, 5, 0, 0, 0, TimeSpan.Zero);
    static readonly Guid PositionId = Guid.CreateVersion7();

    static TokenTransaction Tx(TradeSide side, decimal quantity, decimal price, decimal localPrice, int hour) =>
        TokenTransaction.Record(PositionId, side, quantity, price, localPrice, Day.AddHours(hour));

    [Fact]
    public void A_buy_moves_the_means_a_sell_keeps_them_and_zero_resets_them()
    {
        var holding = Holding.None.After(Tx(TradeSide.Buy, 10m, 100m, 90m, 1));
        Assert.Equal(new Holding(10m, 100m, 90m), holding);
        holding = holding.After(Tx(TradeSide.Buy, 10m, 200m, 180m, 2));
        Assert.Equal(new Holding(20m, 150m, 135m), holding);
        holding = holding.After(Tx(TradeSide.Sell, 15m, 500m, 450m, 3));
        Assert.Equal(new Holding(5m, 150m, 135m), holding);
        Assert.Equal(Holding.None, holding.After(Tx(TradeSide.Sell, 5m, 500m, 450m, 4)));
    }

    [Fact]
    public void A_backdated_buy_rewrites_every_later_snapshot_in_order()
    {
        var position = Position.Open(Guid.CreateVersion7(), "ETH");
        var first = position.Record(Tx(TradeSide.Buy, 10m, 100m, 90m, 1), Holding.None, []);
        var later = position.Record(Tx(TradeSide.Sell, 5m, 300m, 270m, 3), first.Holding, []);

        // Executed at hour 2, between the two: the sell after it now keeps the new mean.
        var backdated = position.Record(Tx(TradeSide.Buy, 10m, 400m, 360m, 2), first.Holding, [later]);

        Assert.Equal(new Holding(20m, 250m, 225m), backdated.Holding);
        Assert.Equal(new Holding(15m, 250m, 225m), later.Holding);
        Assert.Equal((15m, 250m, 225m), (position.Amount, position.MeanPrice, position.LocalMeanPrice));
    }

    [Fact]
    public void A_backdated_sell_that_a_later_sell_would_drive_below_zero_is_refused_and_changes_nothing()
    {
        var position = Position.Open(Guid.CreateVersion7(), "ETH");
        var bought = position.Record(Tx(TradeSide.Buy, 10m, 100m, 90m, 1), Holding.None, []);
        var sold = position.Record(Tx(TradeSide.Sell, 8m, 100m, 90m, 3), bought.Holding, []);

        var refusal = Assert.Throws<BusinessRuleException>(() => position.Record(Tx(TradeSide.Sell, 5m, 100m, 90m, 2), bought.Holding, [sold]));

        Assert.Equal("Oversell", refusal.Title);
        Assert.Equal(new Holding(2m, 100m, 90m), sold.Holding);
        Assert.Equal(2m, position.Amount);
    }
}
