using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Modules;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>A database of its own for one test class, with every module migrated like the Host does it, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public TestDatabase() : this(Environment.GetEnvironmentVariable("ConnectionStrings__Monolith") ?? ModuleDatabase.DefaultConnectionString) { }

    /// <summary>A database on the server <paramref name="serverConnectionString"/> names (its Database is replaced).</summary>
    internal TestDatabase(string serverConnectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = serverConnectionString };
        Name = $"monolith_t_{Guid.NewGuid():N}"[..26];
        builder["Database"] = Name;
        ConnectionString = builder.ConnectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public async Task InitializeAsync()
    {
        await using var services = Services(nameof(StrategyName.PessimisticRowLock));
        await services.MigrateModulesAsync();
    }

    public async Task DisposeAsync()
    {
        await using var services = Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        // Every module's tables live in this one database: dropping it through any module's context drops them all.
        await scope.ServiceProvider.GetServices<ModuleDbContext>().First().Database.EnsureDeletedAsync();
    }

    /// <summary>The modules as the Host wires them, on this database, with <paramref name="strategy"/> (or the unsafe baseline).</summary>
    public ServiceProvider Services(string strategy, int maxAttempts = 12, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Monolith"] = ConnectionString,
            ["Concurrency:Strategy"] = strategy,
            ["Concurrency:LockTimeout"] = "00:00:10",
            ["Database:CommandTimeout"] = "00:00:30",
            ["Concurrency:MaxAttempts"] = maxAttempts.ToString(),
        }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();

        return new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration)
            .AddStrategyDefinition(UnsafeReadModifyWrite.Definition)
            .AddModules(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }
}
