namespace Monolith.Trading.Features;

public enum TradeFilter { All, Open, Closed }

/// <summary>
/// The account's trades, oldest first, at most <see cref="Limit"/> of them after the trade <see cref="After"/> (the
/// previous page's last); <see cref="Status"/> is "open", "closed" or "all" (the default), as the query string carries it.
/// </summary>
public sealed record GetTrades(Caller Caller, Guid AccountId, string? Status = null, int Limit = GetTrades.MaxLimit, Guid? After = null)
    : IRequest<IReadOnlyList<TradeResponse>>, ICallerRequest
{
    public const int MaxLimit = 500;

    internal TradeFilter Filter => Status is null ? TradeFilter.All : Enum.Parse<TradeFilter>(Status, ignoreCase: true);
}

internal sealed class GetTradesValidator : AbstractValidator<GetTrades>
{
    public GetTradesValidator()
    {
        RuleFor(x => x.Status)
            .Must(status => status is null || (Enum.TryParse<TradeFilter>(status, ignoreCase: true, out var filter) && Enum.IsDefined(filter) && !int.TryParse(status, out _)))
            .WithMessage("'{PropertyName}' must be open, closed or all.");
        RuleFor(x => x.Limit).InclusiveBetween(1, GetTrades.MaxLimit);
    }
}

internal sealed class GetTradesHandler(TradingDbContext db) : IRequestHandler<GetTrades, IReadOnlyList<TradeResponse>>
{
    public async Task<IReadOnlyList<TradeResponse>> Handle(GetTrades query, CancellationToken ct)
    {
        if (!await db.Accounts.ReadableBy(query.Caller).AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Trading account", query.AccountId);
        var trades = db.Trades.AsNoTracking().Where(t => t.AccountId == query.AccountId);
        trades = query.Filter switch
        {
            TradeFilter.Open => trades.Where(t => t.ExitPrice == null),
            TradeFilter.Closed => trades.Where(t => t.ExitPrice != null),
            _ => trades,
        };
        if (query.After is { } after)
        {
            var cursor = await db.Trades.AsNoTracking().Where(t => t.Id == after && t.AccountId == query.AccountId)
                .Select(t => (DateTimeOffset?)t.OpenedAt).SingleOrDefaultAsync(ct)
                ?? throw new InvalidCursorException(nameof(GetTrades.After), $"Trade {after} is not one of this account's.");
            trades = trades.Where(t => t.OpenedAt > cursor || (t.OpenedAt == cursor && t.Id.CompareTo(after) > 0));
        }
        return (await trades.OrderBy(t => t.OpenedAt).ThenBy(t => t.Id).Take(query.Limit).ToListAsync(ct)).Select(TradeResponse.From).ToList();
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id}/trades", async Task<Ok<IReadOnlyList<TradeResponse>>> (
                Guid id, string? status, int? limit, Guid? after, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetTrades(caller, id, status, limit ?? GetTrades.MaxLimit, after), ct)))
            .WithName(nameof(GetTrades)).Sends<GetTrades>()
            .WithSummary("The account's trades, oldest first, at most 'limit' (500); pass the last one's id as 'after' for the next; ?status=open|closed filters.");
}
