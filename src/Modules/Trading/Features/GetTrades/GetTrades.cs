namespace Monolith.Trading.Features;

public enum TradeFilter { All, Open, Closed }

public sealed record GetTrades(Guid AccountId, TradeFilter Status = TradeFilter.All) : IRequest<IReadOnlyList<TradeResponse>>;

internal sealed class GetTradesHandler(TradingDbContext db) : IRequestHandler<GetTrades, IReadOnlyList<TradeResponse>>
{
    public async Task<IReadOnlyList<TradeResponse>> Handle(GetTrades query, CancellationToken ct)
    {
        if (!await db.Accounts.AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Trading account", query.AccountId);
        var trades = db.Trades.AsNoTracking().Where(t => t.AccountId == query.AccountId);
        trades = query.Status switch
        {
            TradeFilter.Open => trades.Where(t => t.ExitPrice == null),
            TradeFilter.Closed => trades.Where(t => t.ExitPrice != null),
            _ => trades,
        };
        return await Project(trades.OrderBy(t => t.OpenedAt).ThenBy(t => t.Id)).ToListAsync(ct);
    }

    internal static IQueryable<TradeResponse> Project(IQueryable<Trade> trades) =>
        trades.Select(t => new TradeResponse(t.Id, t.AccountId, t.OrderId, t.Symbol, t.Side, t.Shares, t.EntryPrice, t.Cost, t.StrategyName,
            t.OpenedAt, t.ExitPrice, t.Pnl, t.ClosedAt));

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id:guid}/trades", async Task<Results<Ok<IReadOnlyList<TradeResponse>>, ProblemHttpResult>> (
                Guid id, string? status, IMediator mediator, CancellationToken ct) =>
            {
                if (!Enum.TryParse<TradeFilter>(status ?? nameof(TradeFilter.All), ignoreCase: true, out var filter) || !Enum.IsDefined(filter))
                    return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid request",
                        extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["status"] = ["'status' must be open, closed or all."] } });
                return TypedResults.Ok(await mediator.Send(new GetTrades(id, filter), ct));
            })
            .WithName(nameof(GetTrades)).WithSummary("The account's trades, oldest first; ?status=open|closed filters.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
}
