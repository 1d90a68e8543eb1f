namespace Monolith.Ledger.Features;

/// <summary>An account's entries, newest first, a page at a time: <see cref="After"/> is the previous page's Next.</summary>
public sealed record GetStatement(Caller Caller, Guid AccountId, int Limit = GetStatement.DefaultLimit, long? After = null) : IRequest<StatementPage>, IKeysetPageQuery, ICallerRequest
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
}

public sealed record StatementPage(IReadOnlyList<StatementEntry> Items, long? Next);

public sealed record StatementEntry(long Id, Guid OperationId, decimal Amount, decimal BalanceAfter, DateTimeOffset CreatedAt);

internal sealed class GetStatementValidator : AbstractValidator<GetStatement>
{
    public GetStatementValidator()
    {
        Include(new KeysetPageRules<GetStatement>(GetStatement.MaxLimit));
    }
}

internal sealed class GetStatementHandler(LedgerDbContext db) : IRequestHandler<GetStatement, StatementPage>
{
    public async Task<StatementPage> Handle(GetStatement query, CancellationToken ct)
    {
        if (!await db.Accounts.ReadableBy(query.Caller).AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Account", query.AccountId);

        var entries = db.Entries.AsNoTracking().Where(e => e.AccountId == query.AccountId);
        if (query.After is { } after) entries = entries.Where(e => e.Id < after);
        var (items, next) = await entries.OrderByDescending(e => e.Id)
            .Select(e => new StatementEntry(e.Id, e.OperationId, e.Amount, e.BalanceAfter, e.CreatedAt))
            .PageAsync(query.Limit, e => e.Id, ct);
        return new StatementPage(items, next);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id}/entries", async Task<Ok<StatementPage>> (Guid id, int? limit, long? after, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetStatement(caller, id, limit ?? GetStatement.DefaultLimit, after), ct)))
            .WithName(nameof(GetStatement)).Sends<GetStatement>().WithSummary("The account's entries, newest first; pass 'next' back as 'after' for the next page.");
}
