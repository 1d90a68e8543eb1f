namespace Monolith.Trading.Features;

public sealed record GetOrder(Caller Caller, Guid OrderId) : IRequest<OrderResponse>, ICallerRequest;

internal sealed class GetOrderHandler(TradingDbContext db) : IRequestHandler<GetOrder, OrderResponse>
{
    public Task<OrderResponse> Handle(GetOrder query, CancellationToken ct) => ReadAsync(db, query.OrderId, ct, query.Caller);

    /// <summary>The order as it stands; with a caller, only if that caller may read its account.</summary>
    internal static async Task<OrderResponse> ReadAsync(TradingDbContext db, Guid orderId, CancellationToken ct, Caller? caller = null)
    {
        var orders = db.Orders.AsNoTracking().Where(o => o.Id == orderId);
        if (caller is not null) orders = orders.Where(o => db.Accounts.ReadableBy(caller).Any(a => a.Id == o.AccountId));
        var found = await orders
            .Select(o => new { Order = o, TradeId = db.Trades.Where(t => t.OrderId == o.Id).Select(t => (Guid?)t.Id).FirstOrDefault() })
            .SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Order", orderId);
        return OrderResponse.From(found.Order, found.TradeId);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/orders/{id}", async Task<Ok<OrderResponse>> (Guid id, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetOrder(caller, id), ct)))
            .WithName(nameof(GetOrder)).Sends<GetOrder>().WithSummary("One order and, once filled, its trade.");
}
