namespace Monolith.Trading.Features;

/// <summary>
/// Records an order as Pending, the write-ahead log entry, with the decision that produced it; nothing else changes
/// until it is filled. An account that is not active takes no orders.
/// </summary>
public sealed record PlaceOrder(
    Caller Caller, Guid AccountId, string Symbol, OrderSide Side, decimal Shares, decimal LimitPrice, string StrategyName, string? Reason = null,
    string? IdempotencyKey = null) : ICommand<OrderResponse>, IIdempotentCommand;

public sealed record PlaceOrderRequest(string Symbol, string Side, decimal Shares, decimal LimitPrice, string StrategyName, string? Reason);

public sealed record OrderResponse(
    Guid Id, Guid AccountId, string Symbol, OrderSide Side, decimal Shares, decimal LimitPrice, string StrategyName, OrderStatus Status,
    decimal? FillPrice, string? Reason, Guid? TradeId, DateTimeOffset CreatedAt)
{
    internal static OrderResponse From(Order o, Guid? tradeId) =>
        new(o.Id, o.AccountId, o.Symbol, o.Side, o.Shares, o.LimitPrice, o.StrategyName, o.Status, o.FillPrice, o.Reason, tradeId, o.CreatedAt);
}

internal sealed class PlaceOrderValidator : AbstractValidator<PlaceOrder>
{
    public PlaceOrderValidator()
    {
        RuleFor(x => x.AccountId).NotEmpty();
        RuleFor(x => x.Symbol).NotEmpty().Matches("^[A-Z0-9.]{1,16}\\z").WithMessage("'{PropertyName}' must be 1 to 16 capital letters, digits or dots.");
        RuleFor(x => x.Side).IsInEnum().WithMessage("'{PropertyName}' must be 'buy' or 'sell'.");
        RuleFor(x => x.Shares).MustBeAQuantity();
        RuleFor(x => x.LimitPrice).MustBeAQuantity();
        RuleFor(x => x.StrategyName).NotEmpty().MaximumLength(100).MustBePlainText();
        RuleFor(x => x.Reason).MaximumLength(500).MustBePlainText();
        RuleFor(x => x.IdempotencyKey).MustBeAnIdempotencyKey();
    }
}

internal sealed class PlaceOrderHandler(IConcurrencyStrategy<TradingDbContext> strategy, TradingDbContext db)
    : IRequestHandler<PlaceOrder, OrderResponse>
{
    public async Task<OrderResponse> Handle(PlaceOrder command, CancellationToken ct)
    {
        Order? placed = null;
        var orderId = await strategy.ExecuteOnceAsync(command, WriteKeys.Of<TradingAccount>(command.AccountId), async (session, token) =>
        {
            // Claimed though unchanged, so that a suspension and an order cannot pass each other.
            var account = command.Caller.Spends(await session.LoadOneForWriteAsync<TradingAccount>(command.AccountId, "Trading account", token),
                "Trading account", command.AccountId);
            account.EnsureActive();

            var order = placed = Order.Place(account.Id, command.Symbol, command.Side, command.Shares, command.LimitPrice, command.StrategyName);
            session.Db.Orders.Add(order);
            session.Db.Audit.Add(AuditEntry.Of(account.Id, order, "Placed", command.Caller.Subject, before: null));
            session.Db.Decisions.Add(Decision.Of(account.Id, command.Symbol, command.Side.ToString(), command.Reason ?? "", command.StrategyName, order.Id));
            return order.Id;
        }, ct);

        // The committed run placed this order; a replayed key's order is read back, as it stands now.
        if (placed?.Id == orderId) return OrderResponse.From(placed, tradeId: null);
        return await GetOrderHandler.ReadAsync(db, orderId, ct);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/accounts/{id}/orders", async Task<Created<OrderResponse>> (
                Guid id, PlaceOrderRequest body, [FromHeader(Name = IIdempotentCommand.Header)] string idempotencyKey,
                Caller caller, IMediator mediator, CancellationToken ct) =>
            {
                // An unknown side maps to no OrderSide, which the validator reports as a field error.
                var side = EnumNames.Parse<OrderSide>(body.Side);
                var order = await mediator.Send(new PlaceOrder(caller, id, body.Symbol, side, body.Shares, body.LimitPrice, body.StrategyName, body.Reason,
                    idempotencyKey), ct);
                return TypedResults.Created($"/api/trading/orders/{order.Id}", order);
            })
            .WithName(nameof(PlaceOrder)).Sends<PlaceOrder>().WithSummary("Records a pending limit order (the write-ahead log) and the decision behind it.");
}
