using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;

namespace Monolith.Ledger;

/// <summary>The Ledger module's only public entry points: registration, endpoints, migrations.</summary>
public static class LedgerModule
{
    public const string Name = "Ledger";
    public const string IdempotencyHeader = "Idempotency-Key";

    public static IServiceCollection AddLedger(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleDbContext<LedgerDbContext>(configuration, LedgerDbContext.ModuleName);
        services.AddConcurrencyStrategy<LedgerDbContext>(configuration, Name);
        services.AddModuleRequests(typeof(LedgerModule).Assembly);
        return services;
    }

    public static IEndpointRouteBuilder MapLedger(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/ledger").WithTags(Name);
        OpenAccountHandler.Map(api);
        CashHandler.Map(api);
        TransferHandler.Map(api);
        GetAccountHandler.Map(api);
        GetStatementHandler.Map(api);
        GetBalanceAtHandler.Map(api);
        return endpoints;
    }

    public static async Task MigrateLedgerAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Database.MigrateAsync(ct);
    }
}
