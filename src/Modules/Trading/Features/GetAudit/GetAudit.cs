namespace Monolith.Trading.Features;

/// <summary>The account's audit log (its own changes and those of its orders and trades), oldest first, a page at a time.</summary>
public sealed record GetAudit(Guid AccountId, int Limit = GetAudit.DefaultLimit, long? After = null) : IRequest<AuditPage>
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
}

public sealed record AuditPage(IReadOnlyList<AuditItem> Items, long? Next);

public sealed record AuditItem(long Id, string EntityType, Guid EntityId, long EntityVersion, string Action, string Actor, string? Before, string After, DateTimeOffset At);

internal sealed class GetAuditValidator : AbstractValidator<GetAudit>
{
    public GetAuditValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, GetAudit.MaxLimit);
        RuleFor(x => x.After).GreaterThan(0);
    }
}

internal sealed class GetAuditHandler(TradingDbContext db, IValidator<GetAudit> validator) : IRequestHandler<GetAudit, AuditPage>
{
    public async Task<AuditPage> Handle(GetAudit query, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(query, ct);
        if (!await db.Accounts.AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Trading account", query.AccountId);
        var rows = db.Audit.AsNoTracking().Where(a => a.AccountId == query.AccountId);
        if (query.After is { } after) rows = rows.Where(a => a.Id > after);
        var page = await rows.OrderBy(a => a.Id).Take(query.Limit + 1)
            .Select(a => new AuditItem(a.Id, a.EntityType, a.EntityId, a.EntityVersion, a.Action, a.Actor, a.Before, a.After, a.At))
            .ToListAsync(ct);
        var more = page.Count > query.Limit;
        if (more) page.RemoveAt(page.Count - 1);
        return new AuditPage(page, more ? page[^1].Id : null);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id:guid}/audit", async Task<Ok<AuditPage>> (Guid id, int? limit, long? after, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetAudit(id, limit ?? GetAudit.DefaultLimit, after), ct)))
            .WithName(nameof(GetAudit)).WithSummary("Who changed what and when, before and after; pass 'next' back as 'after'.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
}
