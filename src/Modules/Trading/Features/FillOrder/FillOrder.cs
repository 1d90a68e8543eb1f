namespace Monolith.Trading.Features;

/// <summary>
/// Fills a pending order at a price within its limit: in one unit of work the order becomes Filled, its trade is
/// created and the account reserves the trade's cost. An order the account cannot take (not active, or not enough
/// balance) is rejected instead, which is its own state change; the response shows which happened.
/// </summary>
public sealed record FillOrder(Caller Caller, Guid OrderId, decimal Price) : ICommand<OrderResponse>, ICallerRequest;

public sealed record PriceRequest(decimal Price);

internal sealed class FillOrderValidator : AbstractValidator<FillOrder>
{
    public FillOrderValidator()
    {
        RuleFor(x => x.OrderId).NotEmpty();
        RuleFor(x => x.Price).MustBeAQuantity();
    }
}

internal sealed class FillOrderHandler(IConcurrencyStrategy<TradingDbContext> strategy, TimeProvider clock)
    : IRequestHandler<FillOrder, OrderResponse>
{
    public async Task<OrderResponse> Handle(FillOrder command, CancellationToken ct)
    {
        OrderResponse? answer = null;
        await strategy.ExecuteAsync(WriteKeys.Of<Order>(command.OrderId), async (session, token) =>
        {
            // Child before account, in every command: no two units claim the same rows in opposite orders.
            var order = await session.LoadOneForWriteAsync<Order>(command.OrderId, "Order", token);
            var account = command.Caller.Spends(await session.LoadOneForWriteAsync<TradingAccount>(order.AccountId, "Trading account", token),
                "Order", command.OrderId);
            order.EnsurePending();
            order.EnsureWithinLimit(command.Price);
            var now = clock.GetUtcNow().ToStoredPrecision();
            var orderBefore = order.State();

            var cost = order.CostAt(command.Price);
            var reason = account.Status != AccountStatus.Active ? $"account is {account.Status}"
                : !account.CanAfford(cost) ? $"cost {cost} exceeds the balance {account.CurrentBalance}"
                : !account.CanCarry(order.Shares) ? "the account's totals could not hold this trade's worst-case P&L beside its open trades'"
                : null;
            if (reason is not null)
            {
                order.End(OrderStatus.Rejected, reason);
                session.Db.Audit.Add(AuditEntry.Of(account.Id, order, "Rejected", command.Caller.Subject, orderBefore));
                answer = OrderResponse.From(order, tradeId: null);
                return;
            }

            var accountBefore = account.State();
            order.Fill(command.Price);
            var trade = Trade.Open(order, command.Price, now);
            account.Reserve(cost, order.Shares, command.Caller.Subject, now);
            session.Db.Trades.Add(trade);
            session.Db.Audit.Add(AuditEntry.Of(account.Id, order, "Filled", command.Caller.Subject, orderBefore));
            session.Db.Audit.Add(AuditEntry.Of(account.Id, trade, "Opened", command.Caller.Subject, before: null));
            session.Db.Audit.Add(AuditEntry.Of(account.Id, account, $"Reserved {cost} for trade {trade.Id}", command.Caller.Subject, accountBefore));
            answer = OrderResponse.From(order, trade.Id);
        }, ct);
        return answer!;
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/orders/{id}/fill", async Task<Ok<OrderResponse>> (
                Guid id, PriceRequest body, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new FillOrder(caller, id, body.Price), ct)))
            .WithName(nameof(FillOrder)).Sends<FillOrder>().WithSummary("Fills a pending order within its limit: the trade opens and the account reserves its cost; or the order is rejected.");
}
