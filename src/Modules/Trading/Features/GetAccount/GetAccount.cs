namespace Monolith.Trading.Features;

public sealed record GetTradingAccount(Caller Caller, Guid AccountId) : IRequest<TradingAccountResponse>, ICallerRequest;

public sealed record TradingAccountResponse(
    Guid Id, decimal InitialBalance, decimal CurrentBalance, decimal CumulativePnl, decimal PeakEquity, decimal MaxDrawdownPct,
    decimal MaxDrawdownLimitPct, AccountStatus Status, long Version, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    internal static TradingAccountResponse From(TradingAccount a) => new(a.Id, a.InitialBalance, a.CurrentBalance, a.CumulativePnl, a.PeakEquity,
        a.MaxDrawdownPct, a.MaxDrawdownLimitPct, a.Status, a.Version, a.UpdatedAt, a.UpdatedBy);
}

internal sealed class GetTradingAccountHandler(TradingDbContext db) : IRequestHandler<GetTradingAccount, TradingAccountResponse>
{
    public async Task<TradingAccountResponse> Handle(GetTradingAccount query, CancellationToken ct) =>
        TradingAccountResponse.From(query.Caller.Reads(await db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == query.AccountId, ct),
            "Trading account", query.AccountId));

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id}", async Task<Ok<TradingAccountResponse>> (Guid id, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetTradingAccount(caller, id), ct)))
            .WithName(nameof(GetTradingAccount)).Sends<GetTradingAccount>().WithSummary("The account: balances, P&L, drawdown, status, version.");
}
