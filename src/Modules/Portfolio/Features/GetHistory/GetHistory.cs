namespace Monolith.Portfolio.Features;

/// <summary>
/// One token's transactions in execution order, each with the holding right after it, a page at a time:
/// <see cref="After"/> is the previous page's Next.
/// </summary>
public sealed record GetHistory(Caller Caller, Guid PortfolioId, string Symbol, int Limit = GetHistory.DefaultLimit, long? After = null) : IRequest<HistoryPage>, IKeysetPageQuery, ICallerRequest
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
}

public sealed record HistoryPage(IReadOnlyList<HistoryItem> Items, long? Next);

public sealed record HistoryItem(
    long TransactionId, DateTimeOffset ExecutedAt, TradeSide Side, decimal Quantity, decimal UnitPrice, decimal LocalUnitPrice,
    decimal Amount, decimal MeanPrice, decimal LocalMeanPrice);

internal sealed class GetHistoryValidator : AbstractValidator<GetHistory>
{
    public GetHistoryValidator()
    {
        Include(new KeysetPageRules<GetHistory>(GetHistory.MaxLimit));
    }
}

internal sealed class GetHistoryHandler(PortfolioDbContext db) : IRequestHandler<GetHistory, HistoryPage>
{
    public async Task<HistoryPage> Handle(GetHistory query, CancellationToken ct)
    {
        if (!await db.Portfolios.ReadableBy(query.Caller).AnyAsync(p => p.Id == query.PortfolioId, ct)) throw new NotFoundException("Portfolio", query.PortfolioId);
        var positionId = Position.IdFor(query.PortfolioId, query.Symbol);

        var snapshots = db.Snapshots.AsNoTracking().Where(s => s.PositionId == positionId);
        if (query.After is { } after)
        {
            // Keyset on (executed_at, transaction_id): a backdated transaction recorded meanwhile shows up on a later
            // page if it sorts after the cursor, and never makes a row repeat.
            var cursor = await db.Snapshots.AsNoTracking().Where(s => s.TransactionId == after && s.PositionId == positionId)
                .Select(s => (DateTimeOffset?)s.ExecutedAt).SingleOrDefaultAsync(ct)
                ?? throw new InvalidCursorException(nameof(GetHistory.After), $"Transaction {after} is not in this token's history.");
            snapshots = snapshots.Where(s => s.ExecutedAt > cursor || (s.ExecutedAt == cursor && s.TransactionId > after));
        }
        var (items, next) = await snapshots.OrderBy(s => s.ExecutedAt).ThenBy(s => s.TransactionId)
            .Select(s => new HistoryItem(s.TransactionId, s.ExecutedAt, s.Transaction.Side, s.Transaction.Quantity, s.Transaction.UnitPrice,
                s.Transaction.LocalUnitPrice, s.Amount, s.MeanPrice, s.LocalMeanPrice))
            .PageAsync(query.Limit, s => s.TransactionId, ct);
        return new HistoryPage(items, next);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/portfolios/{id}/tokens/{symbol}/history", async Task<Ok<HistoryPage>> (
                Guid id, string symbol, int? limit, long? after, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetHistory(caller, id, symbol, limit ?? GetHistory.DefaultLimit, after), ct)))
            .WithName(nameof(GetHistory)).Sends<GetHistory>().WithSummary("The token's transactions in execution order with the holding after each; pass 'next' back as 'after'.");
}
