using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Portfolio.Features;
using Monolith.Shared.Modules;

namespace Monolith.Portfolio;

/// <summary>The Portfolio module: token transactions, and each holding's amount and mean price as of any instant.</summary>
public sealed class PortfolioModule : IModule
{
    public const string ModuleName = "Portfolio";

    public string Name => ModuleName;

    public void AddServices(IServiceCollection services, IConfiguration configuration) =>
        services.AddModuleParts<PortfolioDbContext>(configuration, this);

    public Task MigrateAsync(IServiceProvider services, CancellationToken ct = default) => services.MigrateAsync<PortfolioDbContext>(ct);

    public void MapEndpoints(IEndpointRouteBuilder api)
    {
        RegisterTokenHandler.Map(api);
        ListTokensHandler.Map(api);
        OpenPortfolioHandler.Map(api);
        RecordTransactionHandler.Map(api);
        GetHoldingsHandler.Map(api);
        GetHistoryHandler.Map(api);
    }
}
