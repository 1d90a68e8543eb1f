namespace Monolith.Trading.Features;

public sealed record CancelOrder(Caller Caller, Guid OrderId) : ICommand<OrderResponse>, ICallerRequest;

internal sealed class CancelOrderValidator : AbstractValidator<CancelOrder>
{
    public CancelOrderValidator()
    {
        RuleFor(x => x.OrderId).NotEmpty();
    }
}

internal sealed class CancelOrderHandler(IConcurrencyStrategy<TradingDbContext> strategy, TradingDbContext db) : IRequestHandler<CancelOrder, OrderResponse>
{
    public async Task<OrderResponse> Handle(CancelOrder command, CancellationToken ct)
    {
        // Checked before the unit, which then claims only the order: an order's account, and its owner, never change.
        if (!await db.Orders.AnyAsync(o => o.Id == command.OrderId && db.Accounts.Any(a => a.Id == o.AccountId && a.Owner == command.Caller.Subject), ct))
            throw new NotFoundException("Order", command.OrderId);
        Order? cancelled = null;
        await strategy.ExecuteAsync(WriteKeys.Of<Order>(command.OrderId), async (session, token) =>
        {
            var order = cancelled = await session.LoadOneForWriteAsync<Order>(command.OrderId, "Order", token);
            var before = order.State();
            order.End(OrderStatus.Cancelled, $"cancelled by {command.Caller.Subject}");
            session.Db.Audit.Add(AuditEntry.Of(order.AccountId, order, "Cancelled", command.Caller.Subject, before));
        }, ct);
        // Only a pending order can be cancelled, and a pending order has no trade.
        return OrderResponse.From(cancelled!, tradeId: null);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/orders/{id}/cancel", async Task<Ok<OrderResponse>> (
                Guid id, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new CancelOrder(caller, id), ct)))
            .WithName(nameof(CancelOrder)).Sends<CancelOrder>().WithSummary("Cancels a pending order.");
}
