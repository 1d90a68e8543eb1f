using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency;

/// <summary>Which strategy runs is configuration; a wrong name stops start-up. No database is touched here.</summary>
public sealed class StrategySelectionTests
{
    static IServiceCollection Ledger(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))
                .Append(new("ConnectionStrings:Monolith", ModuleDatabase.DefaultConnectionString)))
            .Build();
        var services = new ServiceCollection().AddLogging();
        new LedgerModule().AddServices(services, configuration);
        return services;
    }

    static string Selected(IServiceCollection services)
    {
        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();
        return scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>().Name;
    }

    [Fact]
    public void PessimisticRowLock_is_the_default() =>
        Assert.Equal(nameof(StrategyName.PessimisticRowLock), Selected(Ledger()));

    [Theory]
    [InlineData("OptimisticCas")]
    [InlineData("hybridmvcc")]
    [InlineData("GapLock")]
    [InlineData("SerializableRetry")]
    [InlineData("singlewriter")]
    public void Concurrency_Strategy_selects_by_name_in_any_case(string name) =>
        Assert.Equal(name, Selected(Ledger(("Concurrency:Strategy", name))), ignoreCase: true);

    [Fact]
    public void A_module_override_wins_over_the_global_strategy() =>
        Assert.Equal(nameof(StrategyName.SerializableRetry),
            Selected(Ledger(("Concurrency:Strategy", "OptimisticCas"), ("Concurrency:Modules:Ledger", "SerializableRetry"))));

    [Theory]
    [InlineData("Optimistic")]
    [InlineData("UnsafeReadModifyWrite")]
    [InlineData("3")]
    public void An_unknown_name_stops_start_up_naming_the_known_ones(string name)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Ledger(("Concurrency:Strategy", name)));
        Assert.Contains($"'{name}'", error.Message);
        Assert.Contains("PessimisticRowLock, OptimisticCas, HybridMvcc, GapLock, SerializableRetry", error.Message);
    }
}
