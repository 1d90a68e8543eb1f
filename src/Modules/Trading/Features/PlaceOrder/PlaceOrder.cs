namespace Monolith.Trading.Features;

/// <summary>
/// Records an order as Pending, the write-ahead log entry, with the decision that produced it; nothing else changes
/// until it is filled. An account that is not active takes no orders.
/// </summary>
public sealed record PlaceOrder(
    Guid AccountId, string Symbol, OrderSide Side, decimal Shares, decimal LimitPrice, string StrategyName, string? Reason = null,
    string? IdempotencyKey = null, string Actor = TradingModule.DefaultActor) : ICommand<OrderResponse>, IIdempotentCommand;

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
        RuleFor(x => x.Actor).MustBeAnActor();
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
            var account = await session.LoadOneForWriteAsync<TradingAccount>(command.AccountId, "Trading account", token);
            account.EnsureActive();

            var order = placed = Order.Place(account.Id, command.Symbol, command.Side, command.Shares, command.LimitPrice, command.StrategyName);
            session.Db.Orders.Add(order);
            session.Db.Audit.Add(AuditEntry.Of(account.Id, order, "Placed", command.Actor, before: null));
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
                [FromHeader(Name = TradingModule.ActorHeader)] string? actor, IMediator mediator, CancellationToken ct) =>
            {
                // An unknown side maps to no OrderSide, which the validator reports as a field error.
                var side = EnumNames.Parse<OrderSide>(body.Side);
                var order = await mediator.Send(new PlaceOrder(id, body.Symbol, side, body.Shares, body.LimitPrice, body.StrategyName, body.Reason,
                    idempotencyKey, actor ?? TradingModule.DefaultActor), ct);
                return TypedResults.Created($"/api/trading/orders/{order.Id}", order);
            })
            .WithName(nameof(PlaceOrder)).Sends<PlaceOrder>().WithSummary("Records a pending limit order (the write-ahead log) and the decision behind it.");
}

public sealed record GetOrder(Guid OrderId) : IRequest<OrderResponse>;

internal sealed class GetOrderHandler(TradingDbContext db) : IRequestHandler<GetOrder, OrderResponse>
{
    public Task<OrderResponse> Handle(GetOrder query, CancellationToken ct) => ReadAsync(db, query.OrderId, ct);

    internal static async Task<OrderResponse> ReadAsync(TradingDbContext db, Guid orderId, CancellationToken ct)
    {
        var found = await db.Orders.AsNoTracking().Where(o => o.Id == orderId)
            .Select(o => new { Order = o, TradeId = db.Trades.Where(t => t.OrderId == o.Id).Select(t => (Guid?)t.Id).FirstOrDefault() })
            .SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Order", orderId);
        return OrderResponse.From(found.Order, found.TradeId);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/orders/{id}", async Task<Ok<OrderResponse>> (Guid id, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetOrder(id), ct)))
            .WithName(nameof(GetOrder)).Sends<GetOrder>().WithSummary("One order and, once filled, its trade.");
}
