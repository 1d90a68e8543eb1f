using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Monolith.Trading.Features;

namespace Monolith.Trading;

/// <summary>The Trading module's only public entry points: registration, endpoints, migrations, recovery.</summary>
public static class TradingModule
{
    public const string Name = "Trading";
    public const string IdempotencyHeader = "Idempotency-Key";
    /// <summary>Who makes a change, for the audit log; a trading strategy sends its name.</summary>
    public const string ActorHeader = "X-Actor";
    public const string DefaultActor = "api";

    public static IServiceCollection AddTrading(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddModuleDbContext<TradingDbContext>(configuration, TradingDbContext.ModuleName);
        services.AddConcurrencyStrategy<TradingDbContext>(configuration, Name);
        services.AddModuleRequests(typeof(TradingModule).Assembly);
        return services;
    }

    public static IEndpointRouteBuilder MapTrading(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/trading").WithTags(Name);
        OpenTradingAccountHandler.Map(api);
        GetTradingAccountHandler.Map(api);
        ChangeAccountStatusHandler.Map(api);
        PlaceOrderHandler.Map(api);
        GetOrderHandler.Map(api);
        FillOrderHandler.Map(api);
        CancelOrderHandler.Map(api);
        CloseTradeHandler.Map(api);
        GetTradesHandler.Map(api);
        RecordDecisionHandler.Map(api);
        GetAuditHandler.Map(api);
        return endpoints;
    }

    public static async Task MigrateTradingAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TradingDbContext>().Database.MigrateAsync(ct);
    }

    /// <summary>
    /// Expires orders left pending longer than Trading:PendingOrderMaxAge (default 15 minutes), as start-up recovery of
    /// the write-ahead log; returns how many.
    /// </summary>
    public static async Task<int> RecoverTradingAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var maxAge = scope.ServiceProvider.GetRequiredService<IConfiguration>().GetValue("Trading:PendingOrderMaxAge", TimeSpan.FromMinutes(15));
        var expired = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ExpirePendingOrders(maxAge), ct);
        scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TradingModule))
            .LogInformation("Trading recovery expired {Expired} order(s) pending for more than {MaxAge}", expired, maxAge);
        return expired;
    }
}
