namespace Monolith.Trading.Features;

public sealed record CancelOrder(Guid OrderId, string Actor = TradingModule.DefaultActor) : ICommand<OrderResponse>;

internal sealed class CancelOrderValidator : AbstractValidator<CancelOrder>
{
    public CancelOrderValidator()
    {
        RuleFor(x => x.OrderId).NotEmpty();
        RuleFor(x => x.Actor).MustBeAnActor();
    }
}

internal sealed class CancelOrderHandler(IConcurrencyStrategy<TradingDbContext> strategy) : IRequestHandler<CancelOrder, OrderResponse>
{
    public async Task<OrderResponse> Handle(CancelOrder command, CancellationToken ct)
    {
        Order? cancelled = null;
        await strategy.ExecuteAsync(WriteKeys.Of<Order>(command.OrderId), async (session, token) =>
        {
            var order = cancelled = await session.LoadOneForWriteAsync<Order>(command.OrderId, "Order", token);
            var before = order.State();
            order.End(OrderStatus.Cancelled, $"cancelled by {command.Actor}");
            session.Db.Audit.Add(AuditEntry.Of(order.AccountId, order, "Cancelled", command.Actor, before));
        }, ct);
        // Only a pending order can be cancelled, and a pending order has no trade.
        return OrderResponse.From(cancelled!, tradeId: null);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/orders/{id}/cancel", async Task<Ok<OrderResponse>> (
                Guid id, [FromHeader(Name = TradingModule.ActorHeader)] string? actor, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new CancelOrder(id, actor ?? TradingModule.DefaultActor), ct)))
            .WithName(nameof(CancelOrder)).Sends<CancelOrder>().WithSummary("Cancels a pending order.");
}
