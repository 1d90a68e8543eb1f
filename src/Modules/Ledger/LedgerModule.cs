using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Shared.Modules;

namespace Monolith.Ledger;

/// <summary>The Ledger module: accounts, their append-only entries and balances, deposits, withdrawals and transfers.</summary>
public sealed class LedgerModule : IModule
{
    public const string ModuleName = "Ledger";

    public string Name => ModuleName;

    public void AddServices(IServiceCollection services, IConfiguration configuration) =>
        services.AddModuleParts<LedgerDbContext>(configuration, this);

    public Task MigrateAsync(IServiceProvider services, CancellationToken ct = default) => services.MigrateAsync<LedgerDbContext>(ct);

    public void MapEndpoints(IEndpointRouteBuilder api)
    {
        OpenAccountHandler.Map(api);
        CashHandler.Map(api);
        TransferHandler.Map(api);
        GetTransferHandler.Map(api);
        GetAccountHandler.Map(api);
        GetStatementHandler.Map(api);
        GetBalanceAtHandler.Map(api);
    }
}
