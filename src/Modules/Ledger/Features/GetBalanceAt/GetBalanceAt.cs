namespace Monolith.Ledger.Features;

/// <summary>The balance as of <see cref="At"/>, an ISO 8601 instant as the query string carries it.</summary>
public sealed record GetBalanceAt(Caller Caller, Guid AccountId, string? At) : IRequest<BalanceAt>, ICallerRequest
{
    public GetBalanceAt(Caller caller, Guid accountId, DateTimeOffset at) : this(caller, accountId, Instants.Format(at)) { }
}

public sealed record BalanceAt(Guid AccountId, decimal Balance, DateTimeOffset At);

internal sealed class GetBalanceAtValidator : AbstractValidator<GetBalanceAt>
{
    public GetBalanceAtValidator() => RuleFor(x => x.At).NotNull().MustBeAnInstant();
}

internal sealed class GetBalanceAtHandler(LedgerDbContext db) : IRequestHandler<GetBalanceAt, BalanceAt>
{
    /// <summary>The balance after the last entry at or before the instant: one seek on (account_id, created_at, id).</summary>
    public async Task<BalanceAt> Handle(GetBalanceAt query, CancellationToken ct)
    {
        if (!await db.Accounts.ReadableBy(query.Caller).AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Account", query.AccountId);
        var instant = Instants.Parse(query.At!);
        var at = instant.ToUniversalTime();
        var balance = await db.Entries.AsNoTracking()
            .Where(e => e.AccountId == query.AccountId && e.CreatedAt <= at)
            .OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id)
            .Select(e => (decimal?)e.BalanceAfter)
            .FirstOrDefaultAsync(ct);
        return new BalanceAt(query.AccountId, balance ?? 0m, instant);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id}/balance", async Task<Ok<BalanceAt>> (Guid id, string? at, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetBalanceAt(caller, id, at), ct)))
            .WithName(nameof(GetBalanceAt)).Sends<GetBalanceAt>().WithSummary("The account's balance as of an instant.");
}
