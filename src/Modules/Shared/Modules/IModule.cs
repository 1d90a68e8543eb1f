using System.Reflection;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Monolith.Shared.Behaviors;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Modules;

/// <summary>
/// What the Host, the test fixtures and the bench know of a module: how to register it, where its endpoints go, how
/// to migrate its database and what it recovers at start-up. The Host finds modules with <see cref="ModuleCatalog"/>
/// and never names one.
/// </summary>
public interface IModule
{
    /// <summary>"Ledger": the OpenAPI tag, the key of Concurrency:Modules, the name /health shows.</summary>
    string Name { get; }

    /// <summary>The module's routes live under /api/{RoutePrefix}.</summary>
    string RoutePrefix => ModuleNames.Route(Name);

    void AddServices(IServiceCollection services, IConfiguration configuration);

    /// <summary>Maps the module's endpoints into its group; the Host has applied the conventions every route shares.</summary>
    void MapEndpoints(IEndpointRouteBuilder api);

    Task MigrateAsync(IServiceProvider services, CancellationToken ct = default);

    /// <summary>Start-up recovery (Trading expires stale pending orders); most modules have none.</summary>
    Task RecoverAsync(IServiceProvider services, CancellationToken ct = default) => Task.CompletedTask;
}

/// <summary>
/// A module's name is written once, in its <see cref="IModule"/> ("Ledger"); what is derived from it is derived here.
/// </summary>
public static class ModuleNames
{
    /// <summary>Its routes: /api/ledger.</summary>
    public static string Route(string module) => module.ToLowerInvariant();

    /// <summary>Its schema on PostgreSQL (ledger.accounts), its table prefix on MySQL (ledger_accounts).</summary>
    public static string Store(string module) => module.ToLowerInvariant();
}

/// <summary>
/// The shape every module has today, one call each: one DbContext of its own, written through the strategy
/// configured for the module, with the handlers and validators of its assembly.
/// </summary>
public static class ModuleParts
{
    public static IServiceCollection AddModuleParts<TDb>(this IServiceCollection services, IConfiguration configuration, IModule module)
        where TDb : ModuleDbContext
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddModuleDbContext<TDb>(configuration, ModuleNames.Store(module.Name));
        services.AddConcurrencyStrategy<TDb>(configuration, module.Name);
        services.AddModuleRequests(module.GetType().Assembly, DatabaseProfiles.From(configuration));
        return services;
    }

    public static async Task MigrateAsync<TDb>(this IServiceProvider services, CancellationToken ct) where TDb : ModuleDbContext
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TDb>().Database.MigrateAsync(ct);
    }
}

/// <summary>
/// Every module the application was built with: each public <see cref="IModule"/> with a parameterless constructor in
/// the Monolith.*.dll files beside the running program. Referencing a module project is what adds it.
/// </summary>
public static class ModuleCatalog
{
    static readonly Lazy<IReadOnlyList<IModule>> Found = new(Discover);

    public static IReadOnlyList<IModule> All => Found.Value;

    static IReadOnlyList<IModule> Discover() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "Monolith.*.dll")
            .Select(path => Assembly.Load(AssemblyName.GetAssemblyName(path)))
            .SelectMany(assembly => assembly.GetExportedTypes())
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IModule).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IModule)Activator.CreateInstance(t)!)
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();

    public static IServiceCollection AddModules(this IServiceCollection services, IConfiguration configuration, IEnumerable<IModule>? modules = null)
    {
        foreach (var module in modules ?? All) module.AddServices(services, configuration);
        return services;
    }

    public static async Task MigrateModulesAsync(this IServiceProvider services, IEnumerable<IModule>? modules = null, CancellationToken ct = default)
    {
        foreach (var module in modules ?? All) await module.MigrateAsync(services, ct);
    }
}
