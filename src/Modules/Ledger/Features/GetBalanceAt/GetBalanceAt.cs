namespace Monolith.Ledger.Features;

public sealed record GetBalanceAt(Guid AccountId, DateTimeOffset At) : IRequest<BalanceAt>;

public sealed record BalanceAt(Guid AccountId, decimal Balance, DateTimeOffset At);

internal sealed class GetBalanceAtHandler(LedgerDbContext db) : IRequestHandler<GetBalanceAt, BalanceAt>
{
    /// <summary>The balance after the last entry at or before the instant: one seek on (account_id, created_at, id).</summary>
    public async Task<BalanceAt> Handle(GetBalanceAt query, CancellationToken ct)
    {
        if (!await db.Accounts.AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Account", query.AccountId);
        var at = query.At.ToUniversalTime();
        var balance = await db.Entries.AsNoTracking()
            .Where(e => e.AccountId == query.AccountId && e.CreatedAt <= at)
            .OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id)
            .Select(e => (decimal?)e.BalanceAfter)
            .FirstOrDefaultAsync(ct);
        return new BalanceAt(query.AccountId, balance ?? 0m, query.At);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id:guid}/balance", async Task<Results<Ok<BalanceAt>, ProblemHttpResult>> (Guid id, string? at, IMediator mediator, CancellationToken ct) =>
            {
                if (!Instants.TryParse(at, out var instant)) return Instants.Invalid("at");
                return TypedResults.Ok(await mediator.Send(new GetBalanceAt(id, instant), ct));
            })
            .WithName(nameof(GetBalanceAt)).WithSummary("The account's balance as of an instant.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
}
