namespace Monolith.Trading.Features;

/// <summary>
/// Recovery of the write-ahead log, run at start-up: every order still pending after <see cref="OlderThan"/> is
/// expired with an audit row, each in its own unit of work, so a crash between placing and filling leaves nothing
/// half-applied and nothing pending forever.
/// </summary>
public sealed record ExpirePendingOrders(TimeSpan OlderThan, string Actor = "recovery") : ICommand<int>;

internal sealed class ExpirePendingOrdersHandler(IConcurrencyStrategy<TradingDbContext> strategy, TradingDbContext db, TimeProvider clock)
    : IRequestHandler<ExpirePendingOrders, int>
{
    public async Task<int> Handle(ExpirePendingOrders command, CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - command.OlderThan;
        var stale = await db.Orders.AsNoTracking().Where(o => o.Status == OrderStatus.Pending && o.CreatedAt < cutoff)
            .OrderBy(o => o.CreatedAt).Select(o => o.Id).ToListAsync(ct);
        var expired = 0;
        foreach (var id in stale)
        {
            expired += await strategy.ExecuteAsync(WriteKeys.Of<Order>(id), async (session, token) =>
            {
                var order = await session.LoadOneForWriteAsync<Order>(id, "Order", token);
                if (order.Status != OrderStatus.Pending) return 0; // filled or cancelled meanwhile
                var before = order.State();
                order.End(OrderStatus.Expired, $"pending for more than {command.OlderThan} at start-up");
                session.Db.Audit.Add(AuditEntry.Of(order.AccountId, order, "Expired", command.Actor, before));
                return 1;
            }, ct);
        }
        return expired;
    }
}
