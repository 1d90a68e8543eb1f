using Monolith.Shared;

namespace Monolith.Tests.Unit;

public sealed class MoneyTests
{
    [Theory]
    [InlineData("0.00000001", "0.00000002", "0.00000002")] // 1.5 units: half to even rounds up to 2
    [InlineData("0.00000001", "0.00000004", "0.00000002")] // 2.5 units: half to even rounds down to 2
    [InlineData("0.00000001", "0.00000006", "0.00000004")] // 3.5 units: up to 4
    public void Mean_price_rounds_half_to_even_on_the_exact_quotient(string first, string second, string mean) =>
        Assert.Equal(decimal.Parse(mean), Money.WeightedMean(1m, decimal.Parse(first), 1m, decimal.Parse(second)));

    [Fact]
    public void Mean_price_is_exact_where_decimal_products_would_round()
    {
        // amount * mean has 32 significant digits here; decimal alone keeps 28-29.
        var mean = Money.WeightedMean(123_456_789_012.12345678m, 98_765_432_109.87654321m, 0.00000001m, 0.00000001m);
        Assert.Equal(98_765_432_109.87654320m, mean);
    }

    [Fact]
    public void Mean_price_of_nothing_is_refused_and_so_is_a_ninth_decimal_place()
    {
        Assert.Throws<ArgumentException>(() => Money.WeightedMean(0m, 0m, 0m, 5m));
        Assert.Throws<ArgumentException>(() => Money.WeightedMean(1m, 1m, 0.000000001m, 5m));
    }

    [Theory]
    [InlineData("1.000000005", "1.00000000")] // half to even: 0 is even
    [InlineData("1.000000015", "1.00000002")]
    [InlineData("-1.000000025", "-1.00000002")]
    public void Products_round_half_to_even_to_eight_places(string value, string rounded) =>
        Assert.Equal(decimal.Parse(rounded), Money.Round(decimal.Parse(value)));

    [Fact]
    public void Division_rounds_once_half_to_even() =>
        Assert.Equal(0.33333333m, Money.Divide(1m, 3m));

    [Theory]
    [InlineData("0.12345678", true)]
    [InlineData("0.123456789", false)]
    [InlineData("100", true)]
    public void Eight_decimal_places_at_most(string value, bool accepted) =>
        Assert.Equal(accepted, Money.HasAtMostScale(decimal.Parse(value)));
}
