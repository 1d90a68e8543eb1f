using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Monolith.Ledger;
using Monolith.Ledger.Persistence;
using Monolith.Portfolio;
using Monolith.Portfolio.Persistence;
using Monolith.Trading;
using Monolith.Trading.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>A database of its own for one test class, with every module migrated like the Host does it, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public TestDatabase()
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Monolith") ?? ModuleDatabase.DefaultConnectionString };
        Name = $"monolith_t_{Guid.NewGuid():N}"[..26];
        builder["Database"] = Name;
        ConnectionString = builder.ConnectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public async Task InitializeAsync()
    {
        await using var services = Services(nameof(StrategyName.PessimisticRowLock));
        await services.MigrateLedgerAsync();
        await services.MigratePortfolioAsync();
        await services.MigrateTradingAsync();
    }

    public async Task DisposeAsync()
    {
        await using var services = Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Database.EnsureDeletedAsync();
    }

    /// <summary>The modules as the Host wires them, on this database, with <paramref name="strategy"/> (or the unsafe baseline).</summary>
    public ServiceProvider Services(string strategy, int maxAttempts = 12, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Monolith"] = ConnectionString,
            ["Concurrency:Strategy"] = strategy == UnsafeReadModifyWrite<LedgerDbContext>.StrategyName ? nameof(StrategyName.PessimisticRowLock) : strategy,
            ["Concurrency:LockTimeout"] = "00:00:10",
            ["Concurrency:MaxAttempts"] = maxAttempts.ToString(),
        }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();

        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration)
            .AddLedger(configuration).AddPortfolio(configuration).AddTrading(configuration);
        if (strategy == UnsafeReadModifyWrite<LedgerDbContext>.StrategyName)
        {
            UseUnsafeBaseline<LedgerDbContext>(services);
            UseUnsafeBaseline<PortfolioDbContext>(services);
            UseUnsafeBaseline<TradingDbContext>(services);
        }
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    static void UseUnsafeBaseline<TDb>(IServiceCollection services) where TDb : ModuleDbContext =>
        services.Replace(ServiceDescriptor.Scoped<IConcurrencyStrategy<TDb>>(sp =>
            new UnsafeReadModifyWrite<TDb>(sp.GetRequiredService<TDb>(), sp.GetRequiredService<StrategyRuntime>())));
}
