namespace Monolith.Portfolio.Features;

/// <summary>
/// Every token the portfolio held at an instant (a positive amount), with its mean prices then. <see cref="At"/> is an
/// ISO 8601 instant as the query string carries it; none means now.
/// </summary>
public sealed record GetHoldings(Caller Caller, Guid PortfolioId, string? At = null) : IRequest<HoldingsResponse>, ICallerRequest
{
    public GetHoldings(Caller caller, Guid portfolioId, DateTimeOffset at) : this(caller, portfolioId, Instants.Format(at)) { }
}

public sealed record HoldingsResponse(DateTimeOffset At, IReadOnlyList<HoldingItem> Items);

public sealed record HoldingItem(string Symbol, decimal Amount, decimal MeanPrice, decimal LocalMeanPrice);

/// <summary>One token's holding at an instant (none: now): zero before its first transaction.</summary>
public sealed record GetHolding(Caller Caller, Guid PortfolioId, string Symbol, string? At = null) : IRequest<HoldingAt>, ICallerRequest
{
    public GetHolding(Caller caller, Guid portfolioId, string symbol, DateTimeOffset at) : this(caller, portfolioId, symbol, Instants.Format(at)) { }
}

public sealed record HoldingAt(string Symbol, DateTimeOffset At, decimal Amount, decimal MeanPrice, decimal LocalMeanPrice, long? AfterTransactionId);

internal sealed class GetHoldingsValidator : AbstractValidator<GetHoldings>
{
    public GetHoldingsValidator() => RuleFor(x => x.At).MustBeAnInstant();
}

internal sealed class GetHoldingValidator : AbstractValidator<GetHolding>
{
    public GetHoldingValidator() => RuleFor(x => x.At).MustBeAnInstant();
}

internal sealed class GetHoldingsHandler(PortfolioDbContext db, TimeProvider clock) : IRequestHandler<GetHoldings, HoldingsResponse>, IRequestHandler<GetHolding, HoldingAt>
{
    public async Task<HoldingsResponse> Handle(GetHoldings query, CancellationToken ct)
    {
        await EnsurePortfolioAsync(query.Caller, query.PortfolioId, ct);
        var at = InstantOf(query.At);
        var positions = await db.Positions.AsNoTracking().Where(p => p.PortfolioId == query.PortfolioId)
            .OrderBy(p => p.Symbol).Select(p => new { p.Id, p.Symbol }).ToListAsync(ct);
        // One seek per token on (position_id, executed_at, transaction_id); a portfolio holds few tokens, and MariaDB
        // has no LATERAL join to do it in one statement.
        var items = new List<HoldingItem>(positions.Count);
        foreach (var position in positions)
        {
            var snapshot = await LastSnapshotAsync(position.Id, at, ct);
            if (snapshot is { Amount: > 0m }) items.Add(new HoldingItem(position.Symbol, snapshot.Amount, snapshot.MeanPrice, snapshot.LocalMeanPrice));
        }
        return new HoldingsResponse(at, items);
    }

    public async Task<HoldingAt> Handle(GetHolding query, CancellationToken ct)
    {
        await EnsurePortfolioAsync(query.Caller, query.PortfolioId, ct);
        var at = InstantOf(query.At);
        var snapshot = await LastSnapshotAsync(Position.IdFor(query.PortfolioId, query.Symbol), at, ct);
        return snapshot is null
            ? new HoldingAt(query.Symbol, at, 0m, 0m, 0m, null)
            : new HoldingAt(query.Symbol, at, snapshot.Amount, snapshot.MeanPrice, snapshot.LocalMeanPrice, snapshot.TransactionId);
    }

    DateTimeOffset InstantOf(string? at) => at is null ? clock.GetUtcNow() : Instants.Parse(at);

    Task<Snapshot?> LastSnapshotAsync(Guid positionId, DateTimeOffset at, CancellationToken ct)
    {
        var instant = at.ToStoredPrecision();
        return db.Snapshots.AsNoTracking()
            .Where(s => s.PositionId == positionId && s.ExecutedAt <= instant)
            .OrderByDescending(s => s.ExecutedAt).ThenByDescending(s => s.TransactionId)
            .FirstOrDefaultAsync(ct);
    }

    async Task EnsurePortfolioAsync(Caller caller, Guid id, CancellationToken ct)
    {
        if (!await db.Portfolios.ReadableBy(caller).AnyAsync(p => p.Id == id, ct)) throw new NotFoundException("Portfolio", id);
    }

    internal static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/portfolios/{id}/holdings", async Task<Ok<HoldingsResponse>> (Guid id, string? at, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetHoldings(caller, id, at), ct)))
            .WithName(nameof(GetHoldings)).Sends<GetHoldings>().WithSummary("The tokens held at an instant ('at', default now), with their mean prices.");
        api.MapGet("/portfolios/{id}/tokens/{symbol}", async Task<Ok<HoldingAt>> (
                Guid id, string symbol, string? at, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetHolding(caller, id, symbol, at), ct)))
            .WithName(nameof(GetHolding)).Sends<GetHolding>().WithSummary("One token's holding at an instant ('at', default now).");
    }
}
