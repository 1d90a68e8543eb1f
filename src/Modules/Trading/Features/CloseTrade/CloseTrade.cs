namespace Monolith.Trading.Features;

/// <summary>Closes an open trade at an exit price, exactly once: the P&amp;L is fixed and the account settles it.</summary>
public sealed record CloseTrade(Caller Caller, Guid TradeId, decimal ExitPrice) : ICommand<TradeResponse>, ICallerRequest;

public sealed record TradeResponse(
    Guid Id, Guid AccountId, Guid OrderId, string Symbol, OrderSide Side, decimal Shares, decimal EntryPrice, decimal Cost, string StrategyName,
    DateTimeOffset OpenedAt, decimal? ExitPrice, decimal? Pnl, DateTimeOffset? ClosedAt)
{
    internal static TradeResponse From(Trade t) => new(t.Id, t.AccountId, t.OrderId, t.Symbol, t.Side, t.Shares, t.EntryPrice, t.Cost, t.StrategyName,
        t.OpenedAt, t.ExitPrice, t.Pnl, t.ClosedAt);
}

internal sealed class CloseTradeValidator : AbstractValidator<CloseTrade>
{
    public CloseTradeValidator()
    {
        RuleFor(x => x.TradeId).NotEmpty();
        RuleFor(x => x.ExitPrice).MustBeAQuantity();
    }
}

internal sealed class CloseTradeHandler(IConcurrencyStrategy<TradingDbContext> strategy, TimeProvider clock)
    : IRequestHandler<CloseTrade, TradeResponse>
{
    public async Task<TradeResponse> Handle(CloseTrade command, CancellationToken ct)
    {
        Trade? closed = null;
        await strategy.ExecuteAsync(WriteKeys.Of<Trade>(command.TradeId), async (session, token) =>
        {
            var trade = closed = await session.LoadOneForWriteAsync<Trade>(command.TradeId, "Trade", token);
            var account = command.Caller.Spends(await session.LoadOneForWriteAsync<TradingAccount>(trade.AccountId, "Trading account", token),
                "Trade", command.TradeId);
            var now = clock.GetUtcNow().ToStoredPrecision();
            var (tradeBefore, accountBefore) = (trade.State(), account.State());

            var pnl = trade.Close(command.ExitPrice, now);
            account.Settle(trade.Cost, trade.Shares, pnl, command.Caller.Subject, now);
            session.Db.Audit.Add(AuditEntry.Of(account.Id, trade, "Closed", command.Caller.Subject, tradeBefore));
            var suspended = accountBefore.Status == AccountStatus.Active && account.Status == AccountStatus.Suspended;
            session.Db.Audit.Add(AuditEntry.Of(account.Id, account,
                suspended ? $"Settled trade {trade.Id}; suspended at drawdown {account.MaxDrawdownPct}%" : $"Settled trade {trade.Id}",
                command.Caller.Subject, accountBefore));
        }, ct);
        return TradeResponse.From(closed!);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/trades/{id}/close", async Task<Ok<TradeResponse>> (
                Guid id, ExitPriceRequest body, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new CloseTrade(caller, id, body.ExitPrice), ct)))
            .WithName(nameof(CloseTrade)).Sends<CloseTrade>().WithSummary("Closes an open trade; a second close is refused (422).");
}

public sealed record ExitPriceRequest(decimal ExitPrice);
