namespace Monolith.Trading.Features;

/// <summary>Closes an open trade at an exit price, exactly once: the P&amp;L is fixed and the account settles it.</summary>
public sealed record CloseTrade(Guid TradeId, decimal ExitPrice, string Actor = TradingModule.DefaultActor) : ICommand<TradeResponse>;

public sealed record TradeResponse(
    Guid Id, Guid AccountId, Guid OrderId, string Symbol, OrderSide Side, decimal Shares, decimal EntryPrice, decimal Cost, string StrategyName,
    DateTimeOffset OpenedAt, decimal? ExitPrice, decimal? Pnl, DateTimeOffset? ClosedAt);

internal sealed class CloseTradeValidator : AbstractValidator<CloseTrade>
{
    public CloseTradeValidator()
    {
        RuleFor(x => x.TradeId).NotEmpty();
        RuleFor(x => x.ExitPrice).MustBeAQuantity();
        RuleFor(x => x.Actor).MustBeAnActor();
    }
}

internal sealed class CloseTradeHandler(IConcurrencyStrategy<TradingDbContext> strategy, TradingDbContext db, TimeProvider clock)
    : IRequestHandler<CloseTrade, TradeResponse>
{
    public async Task<TradeResponse> Handle(CloseTrade command, CancellationToken ct)
    {
        await strategy.ExecuteAsync(WriteKeys.Of<Trade>(command.TradeId), async (session, token) =>
        {
            var trade = (await session.LoadForWriteAsync<Trade>([command.TradeId], token)).SingleOrDefault()
                ?? throw new NotFoundException("Trade", command.TradeId);
            var account = (await session.LoadForWriteAsync<TradingAccount>([trade.AccountId], token)).Single();
            var now = clock.GetUtcNow().ToStoredPrecision();
            var (tradeBefore, accountBefore) = (trade.State(), account.State());

            var pnl = trade.Close(command.ExitPrice, now);
            account.Settle(trade.Cost, pnl, command.Actor, now);
            session.Db.Audit.Add(AuditEntry.Of(account.Id, trade, "Closed", command.Actor, tradeBefore));
            var suspended = accountBefore.Status == AccountStatus.Active && account.Status == AccountStatus.Suspended;
            session.Db.Audit.Add(AuditEntry.Of(account.Id, account,
                suspended ? $"Settled trade {trade.Id}; suspended at drawdown {account.MaxDrawdownPct}%" : $"Settled trade {trade.Id}",
                command.Actor, accountBefore));
            return true;
        }, ct);
        return await GetTradesHandler.Project(db.Trades.AsNoTracking().Where(t => t.Id == command.TradeId)).SingleAsync(ct);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/trades/{id:guid}/close", async Task<Ok<TradeResponse>> (
                Guid id, ExitPriceRequest body, [FromHeader(Name = TradingModule.ActorHeader)] string? actor, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new CloseTrade(id, body.ExitPrice, actor ?? TradingModule.DefaultActor), ct)))
            .WithName(nameof(CloseTrade)).Sends<CloseTrade>().WithSummary("Closes an open trade; a second close is refused (422).");
}

public sealed record ExitPriceRequest(decimal ExitPrice);
