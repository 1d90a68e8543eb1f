using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Modules;
using Monolith.Trading.Features;

namespace Monolith.Trading;

/// <summary>The Trading module: a trading account, pending orders as a write-ahead log, immutable trades, P&amp;L and an audit log.</summary>
public sealed class TradingModule : IModule
{
    public const string ModuleName = "Trading";

    public string Name => ModuleName;

    public void AddServices(IServiceCollection services, IConfiguration configuration) =>
        services.AddModuleParts<TradingDbContext>(configuration, this);

    public Task MigrateAsync(IServiceProvider services, CancellationToken ct = default) => services.MigrateAsync<TradingDbContext>(ct);

    public void MapEndpoints(IEndpointRouteBuilder api)
    {
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
    }

    /// <summary>
    /// Expires orders left pending longer than Trading:PendingOrderMaxAge (default 15 minutes), as start-up recovery of
    /// the write-ahead log.
    /// </summary>
    public async Task RecoverAsync(IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var maxAge = scope.ServiceProvider.GetRequiredService<IConfiguration>().GetValue("Trading:PendingOrderMaxAge", TimeSpan.FromMinutes(15));
        var expired = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ExpirePendingOrders(maxAge), ct);
        scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TradingModule))
            .LogInformation("Trading recovery expired {Expired} order(s) pending for more than {MaxAge}", expired, maxAge);
    }
}
