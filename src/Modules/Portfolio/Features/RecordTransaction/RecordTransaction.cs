namespace Monolith.Portfolio.Features;

/// <summary>
/// Records a buy or sell of a token executed at an instant, possibly before transactions already recorded
/// (backdated): the snapshots after it are recomputed in the same unit of work.
/// </summary>
public sealed record RecordTransaction(
    Caller Caller, Guid PortfolioId, string Symbol, TradeSide Side, decimal Quantity, decimal UnitPrice, decimal LocalUnitPrice,
    DateTimeOffset ExecutedAt, string? IdempotencyKey = null) : ICommand<TransactionResponse>, IIdempotentCommand;

/// <summary>The holding right after the transaction, as it stands now.</summary>
public sealed record TransactionResponse(long TransactionId, string Symbol, decimal Amount, decimal MeanPrice, decimal LocalMeanPrice)
{
    internal static TransactionResponse From(Snapshot s, string symbol) => new(s.TransactionId, symbol, s.Amount, s.MeanPrice, s.LocalMeanPrice);
}

public sealed record RecordTransactionRequest(string Symbol, string Side, decimal Quantity, decimal UnitPrice, decimal LocalUnitPrice, DateTimeOffset ExecutedAt);

internal sealed class RecordTransactionValidator : AbstractValidator<RecordTransaction>
{
    /// <summary>Clocks of clients and server differ a little; an instant further ahead than this is refused as future.</summary>
    internal static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    public RecordTransactionValidator(TimeProvider clock)
    {
        RuleFor(x => x.PortfolioId).NotEmpty();
        RuleFor(x => x.Symbol).NotEmpty().Matches(Token.SymbolPattern).WithMessage("'{PropertyName}' must be 1 to 16 capital letters or digits.");
        RuleFor(x => x.Side).IsInEnum().WithMessage("'{PropertyName}' must be 'buy' or 'sell'.");
        RuleFor(x => x.Quantity).MustBeAnAmount();
        RuleFor(x => x.UnitPrice).MustBeAnAmount();
        RuleFor(x => x.LocalUnitPrice).MustBeAnAmount();
        RuleFor(x => x.ExecutedAt).NotEmpty()
            .Must(at => at <= clock.GetUtcNow() + ClockSkew).WithMessage("'{PropertyName}' must not be in the future.");
        RuleFor(x => x.IdempotencyKey).MustBeAnIdempotencyKey();
    }
}

internal sealed class RecordTransactionHandler(IConcurrencyStrategy<PortfolioDbContext> strategy, PortfolioDbContext db)
    : IRequestHandler<RecordTransaction, TransactionResponse>
{
    public async Task<TransactionResponse> Handle(RecordTransaction command, CancellationToken ct)
    {
        // Checked before the unit, which need not hold its claim for it: a portfolio's owner never changes.
        if (!await db.Portfolios.AnyAsync(p => p.Id == command.PortfolioId && p.Owner == command.Caller.Subject, ct))
            throw new NotFoundException("Portfolio", command.PortfolioId);
        var executedAt = command.ExecutedAt.ToStoredPrecision();
        Snapshot? written = null;
        var operationId = await strategy.ExecuteOnceAsync(command, WriteKeys.Of<Position>(Position.IdFor(command.PortfolioId, command.Symbol)), async (session, token) =>
        {
            var position = await ClaimPositionAsync(session, command, token);
            var transaction = TokenTransaction.Record(position.Id, command.Side, command.Quantity, command.UnitPrice, command.LocalUnitPrice, executedAt);

            // Read after the position is claimed, so they are as fresh as its protection: a new transaction sorts
            // after every recorded one executed at the same instant.
            var before = await session.Db.Snapshots.AsNoTracking()
                .Where(s => s.PositionId == position.Id && s.ExecutedAt <= executedAt)
                .OrderByDescending(s => s.ExecutedAt).ThenByDescending(s => s.TransactionId)
                .Select(s => new Holding(s.Amount, s.MeanPrice, s.LocalMeanPrice))
                .FirstOrDefaultAsync(token);
            var later = await session.Db.Snapshots.Include(s => s.Transaction)
                .Where(s => s.PositionId == position.Id && s.ExecutedAt > executedAt)
                .OrderBy(s => s.ExecutedAt).ThenBy(s => s.TransactionId)
                .ToListAsync(token);

            written = position.Record(transaction, before, later);
            session.Db.Snapshots.Add(written);
            return transaction.OperationId;
        }, ct);

        // The committed run wrote this snapshot (saving numbered its transaction); a replayed key's is read back.
        if (written?.Transaction.OperationId == operationId) return TransactionResponse.From(written, command.Symbol);
        var replayed = await db.Snapshots.AsNoTracking().Include(s => s.Transaction).SingleAsync(s => s.Transaction.OperationId == operationId, ct);
        return TransactionResponse.From(replayed, command.Symbol);
    }

    /// <summary>The token's position, loaded for write; opened (and so claimed by its unique key) on the first transaction.</summary>
    static async Task<Position> ClaimPositionAsync(IWriteSession<PortfolioDbContext> session, RecordTransaction command, CancellationToken ct)
    {
        var claimed = await session.LoadForWriteAsync<Position>([Position.IdFor(command.PortfolioId, command.Symbol)], ct);
        if (claimed.Count == 1) return claimed[0];

        if (!await session.Db.Tokens.AnyAsync(t => t.Symbol == command.Symbol, ct))
            throw new BusinessRuleException("Unknown token", $"{command.Symbol} is not registered; PUT /api/portfolio/tokens/{command.Symbol} first.");
        var position = Position.Open(command.PortfolioId, command.Symbol);
        session.Db.Positions.Add(position);
        return position;
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/portfolios/{id}/transactions", async Task<Created<TransactionResponse>> (
                Guid id, RecordTransactionRequest body, [FromHeader(Name = IIdempotentCommand.Header)] string idempotencyKey,
                Caller caller, IMediator mediator, CancellationToken ct) =>
            {
                // An unknown side maps to no TradeSide, which the validator reports as a field error.
                var side = EnumNames.Parse<TradeSide>(body.Side);
                var command = new RecordTransaction(caller, id, body.Symbol, side, body.Quantity, body.UnitPrice, body.LocalUnitPrice, body.ExecutedAt, idempotencyKey);
                var recorded = await mediator.Send(command, ct);
                return TypedResults.Created($"/api/portfolio/portfolios/{id}/tokens/{recorded.Symbol}/history", recorded);
            })
            .WithName(nameof(RecordTransaction)).Sends<RecordTransaction>()
            .WithSummary("Records a buy or sell, backdated or not; answers with the holding right after it.");
}
