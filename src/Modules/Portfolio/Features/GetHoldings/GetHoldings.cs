namespace Monolith.Portfolio.Features;

/// <summary>Every token the portfolio held at an instant (a positive amount), with its mean prices then.</summary>
public sealed record GetHoldings(Guid PortfolioId, DateTimeOffset At) : IRequest<HoldingsResponse>;

public sealed record HoldingsResponse(DateTimeOffset At, IReadOnlyList<HoldingItem> Items);

public sealed record HoldingItem(string Symbol, decimal Amount, decimal MeanPrice, decimal LocalMeanPrice);

/// <summary>One token's holding at an instant: zero before its first transaction.</summary>
public sealed record GetHolding(Guid PortfolioId, string Symbol, DateTimeOffset At) : IRequest<HoldingAt>;

public sealed record HoldingAt(string Symbol, DateTimeOffset At, decimal Amount, decimal MeanPrice, decimal LocalMeanPrice, long? AfterTransactionId);

internal sealed class GetHoldingsHandler(PortfolioDbContext db) : IRequestHandler<GetHoldings, HoldingsResponse>, IRequestHandler<GetHolding, HoldingAt>
{
    public async Task<HoldingsResponse> Handle(GetHoldings query, CancellationToken ct)
    {
        await EnsurePortfolioAsync(query.PortfolioId, ct);
        var positions = await db.Positions.AsNoTracking().Where(p => p.PortfolioId == query.PortfolioId)
            .OrderBy(p => p.Symbol).Select(p => new { p.Id, p.Symbol }).ToListAsync(ct);
        // One seek per token on (position_id, executed_at, transaction_id); a portfolio holds few tokens, and MariaDB
        // has no LATERAL join to do it in one statement.
        var items = new List<HoldingItem>(positions.Count);
        foreach (var position in positions)
        {
            var snapshot = await LastSnapshotAsync(position.Id, query.At, ct);
            if (snapshot is { Amount: > 0m }) items.Add(new HoldingItem(position.Symbol, snapshot.Amount, snapshot.MeanPrice, snapshot.LocalMeanPrice));
        }
        return new HoldingsResponse(query.At, items);
    }

    public async Task<HoldingAt> Handle(GetHolding query, CancellationToken ct)
    {
        await EnsurePortfolioAsync(query.PortfolioId, ct);
        var snapshot = await LastSnapshotAsync(Position.IdFor(query.PortfolioId, query.Symbol), query.At, ct);
        return snapshot is null
            ? new HoldingAt(query.Symbol, query.At, 0m, 0m, 0m, null)
            : new HoldingAt(query.Symbol, query.At, snapshot.Amount, snapshot.MeanPrice, snapshot.LocalMeanPrice, snapshot.TransactionId);
    }

    Task<Snapshot?> LastSnapshotAsync(Guid positionId, DateTimeOffset at, CancellationToken ct)
    {
        var instant = at.ToStoredPrecision();
        return db.Snapshots.AsNoTracking()
            .Where(s => s.PositionId == positionId && s.ExecutedAt <= instant)
            .OrderByDescending(s => s.ExecutedAt).ThenByDescending(s => s.TransactionId)
            .FirstOrDefaultAsync(ct);
    }

    async Task EnsurePortfolioAsync(Guid id, CancellationToken ct)
    {
        if (!await db.Portfolios.AnyAsync(p => p.Id == id, ct)) throw new NotFoundException("Portfolio", id);
    }

    internal static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/portfolios/{id:guid}/holdings", async Task<Results<Ok<HoldingsResponse>, ProblemHttpResult>> (
                Guid id, string? at, IMediator mediator, TimeProvider clock, CancellationToken ct) =>
            {
                var instant = clock.GetUtcNow();
                if (at is not null && !Instants.TryParse(at, out instant)) return Instants.Invalid("at");
                return TypedResults.Ok(await mediator.Send(new GetHoldings(id, instant), ct));
            })
            .WithName(nameof(GetHoldings)).WithSummary("The tokens held at an instant ('at', default now), with their mean prices.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/portfolios/{id:guid}/tokens/{symbol}", async Task<Results<Ok<HoldingAt>, ProblemHttpResult>> (
                Guid id, string symbol, string? at, IMediator mediator, TimeProvider clock, CancellationToken ct) =>
            {
                var instant = clock.GetUtcNow();
                if (at is not null && !Instants.TryParse(at, out instant)) return Instants.Invalid("at");
                return TypedResults.Ok(await mediator.Send(new GetHolding(id, symbol, instant), ct));
            })
            .WithName(nameof(GetHolding)).WithSummary("One token's holding at an instant ('at', default now).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
    }
}
