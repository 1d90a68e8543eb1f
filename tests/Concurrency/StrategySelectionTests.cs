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

    [Theory]
    [InlineData("SerializableRetry", "took the pair below their joint limit")]
    public void The_cluster_profile_refuses_a_strategy_at_start_up_with_what_was_measured(string strategy, string reason)
    {
        if (DatabaseProvider.Current != DatabaseKind.MySql)
        {
            var wrongBuild = Assert.Throws<InvalidOperationException>(() => Ledger(("Database:Profile", "GaleraCluster")));
            Assert.Contains("needs the MySql build", wrongBuild.Message);
            return;
        }
        var refused = Assert.Throws<InvalidOperationException>(() => Ledger(("Database:Profile", "GaleraCluster"), ("Concurrency:Strategy", strategy)));
        Assert.Contains($"{strategy} for module Ledger is refused on Database:Profile GaleraCluster", refused.Message);
        Assert.Contains(reason, refused.Message);
        Assert.Contains("Choose one that holds there: PessimisticRowLock, OptimisticCas, HybridMvcc, GapLock, RedisLock, SingleWriter.", refused.Message);

        // The suite's switch runs it anyway, to measure it; the single-server profile is untouched.
        Assert.Equal(strategy, Selected(Ledger(("Database:Profile", "GaleraCluster"), ("Concurrency:Strategy", strategy), ("Concurrency:RunRefusedStrategy", "true"))));
        Assert.Equal(strategy, Selected(Ledger(("Database:Profile", "SingleServer"), ("Concurrency:Strategy", strategy))));
    }

    [Theory]
    [InlineData("PessimisticRowLock")]
    [InlineData("OptimisticCas")]
    [InlineData("HybridMvcc")]
    [InlineData("GapLock")]
    [InlineData("SingleWriter")]
    public void The_cluster_profile_accepts_the_strategies_that_held_across_nodes(string strategy)
    {
        IServiceCollection OnCluster() => Ledger(("Database:Profile", "GaleraCluster"), ("Concurrency:Strategy", strategy));
        if (DatabaseProvider.Current == DatabaseKind.MySql) Assert.Equal(strategy, Selected(OnCluster()));
        else Assert.Contains("needs the MySql build", Assert.Throws<InvalidOperationException>(OnCluster).Message);
    }

    [Fact]
    public void An_unknown_database_profile_stops_start_up() =>
        Assert.Contains("Unknown Database:Profile 'Sharded'", Assert.Throws<InvalidOperationException>(() => Ledger(("Database:Profile", "Sharded"))).Message);

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

    [Theory]
    [InlineData("00:00:05", "00:00:05")]
    [InlineData("00:00:03", "00:00:05")]
    public void A_command_timeout_not_above_the_lock_timeout_stops_start_up(string commandTimeout, string lockTimeout)
    {
        // A statement waiting for a lock would time out as an outage (503) before the lock wait ended as a conflict.
        var error = Assert.Throws<InvalidOperationException>(() => Ledger(("Database:CommandTimeout", commandTimeout), ("Concurrency:LockTimeout", lockTimeout)));
        Assert.Contains("must exceed Concurrency:LockTimeout", error.Message);
        Assert.Equal(nameof(StrategyName.PessimisticRowLock), Selected(Ledger(("Database:CommandTimeout", "00:00:06"), ("Concurrency:LockTimeout", lockTimeout))));
    }
}
