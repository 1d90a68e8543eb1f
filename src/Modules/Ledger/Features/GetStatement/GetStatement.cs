namespace Monolith.Ledger.Features;

/// <summary>An account's entries, newest first, a page at a time: <see cref="After"/> is the previous page's Next.</summary>
public sealed record GetStatement(Guid AccountId, int Limit = GetStatement.DefaultLimit, long? After = null) : IRequest<StatementPage>
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
        RuleFor(x => x.Limit).InclusiveBetween(1, GetStatement.MaxLimit);
        RuleFor(x => x.After).GreaterThan(0);
    }
}

internal sealed class GetStatementHandler(LedgerDbContext db, IValidator<GetStatement> validator) : IRequestHandler<GetStatement, StatementPage>
{
    public async Task<StatementPage> Handle(GetStatement query, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(query, ct);
        if (!await db.Accounts.AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Account", query.AccountId);

        var entries = db.Entries.AsNoTracking().Where(e => e.AccountId == query.AccountId);
        if (query.After is { } after) entries = entries.Where(e => e.Id < after);
        var page = await entries.OrderByDescending(e => e.Id).Take(query.Limit + 1)
            .Select(e => new StatementEntry(e.Id, e.OperationId, e.Amount, e.BalanceAfter, e.CreatedAt))
            .ToListAsync(ct);
        var more = page.Count > query.Limit;
        if (more) page.RemoveAt(page.Count - 1);
        return new StatementPage(page, more ? page[^1].Id : null);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id:guid}/entries", async Task<Ok<StatementPage>> (Guid id, int? limit, long? after, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetStatement(id, limit ?? GetStatement.DefaultLimit, after), ct)))
            .WithName(nameof(GetStatement)).WithSummary("The account's entries, newest first; pass 'next' back as 'after' for the next page.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
}
