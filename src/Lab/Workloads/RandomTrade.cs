using Monolith.Portfolio.Domain;

namespace Monolith.Lab;

/// <summary>A random buy or sell; the race suite's workloads, the trigger peer and the lab's race draw from the same generator.</summary>
internal readonly record struct RandomTrade(TradeSide Side, decimal Quantity, decimal UnitPrice, decimal LocalUnitPrice)
{
    public static RandomTrade Next(Random random)
    {
        var price = random.NextInt64(5_000_000_000, 15_000_000_000) / 100_000_000m;
        var local = random.NextInt64(4_000_000_000, 14_000_000_000) / 100_000_000m;
        if (random.Next(100) < 55) return new(TradeSide.Buy, random.NextInt64(100_000_000, 4_000_000_000) / 100_000_000m, price, local);
        // Now and then a sell far beyond the holding, so the oversell rule is exercised under contention.
        var quantity = random.Next(25) == 0 ? 50_000m : random.NextInt64(100_000_000, 3_000_000_000) / 100_000_000m;
        return new(TradeSide.Sell, quantity, price, local);
    }
}
