using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Monolith.Portfolio.Features;

namespace Monolith.Portfolio;

/// <summary>The Portfolio module's only public entry points: registration, endpoints, migrations.</summary>
public static class PortfolioModule
{
    public const string Name = "Portfolio";
    public const string IdempotencyHeader = "Idempotency-Key";

    public static IServiceCollection AddPortfolio(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddModuleDbContext<PortfolioDbContext>(configuration, PortfolioDbContext.ModuleName);
        services.AddConcurrencyStrategy<PortfolioDbContext>(configuration, Name);
        services.AddModuleRequests(typeof(PortfolioModule).Assembly);
        return services;
    }

    public static IEndpointRouteBuilder MapPortfolio(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/portfolio").WithTags(Name);
        RegisterTokenHandler.Map(api);
        OpenPortfolioHandler.Map(api);
        RecordTransactionHandler.Map(api);
        GetHoldingsHandler.Map(api);
        GetHistoryHandler.Map(api);
        return endpoints;
    }

    public static async Task MigratePortfolioAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<PortfolioDbContext>().Database.MigrateAsync(ct);
    }
}
