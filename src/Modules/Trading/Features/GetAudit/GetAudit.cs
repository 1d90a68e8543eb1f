namespace Monolith.Trading.Features;

/// <summary>The account's audit log (its own changes and those of its orders and trades), oldest first, a page at a time.</summary>
public sealed record GetAudit(Caller Caller, Guid AccountId, int Limit = GetAudit.DefaultLimit, long? After = null) : IRequest<AuditPage>, IKeysetPageQuery, ICallerRequest
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
        Include(new KeysetPageRules<GetAudit>(GetAudit.MaxLimit));
    }
}

internal sealed class GetAuditHandler(TradingDbContext db) : IRequestHandler<GetAudit, AuditPage>
{
    public async Task<AuditPage> Handle(GetAudit query, CancellationToken ct)
    {
        if (!await db.Accounts.ReadableBy(query.Caller).AnyAsync(a => a.Id == query.AccountId, ct)) throw new NotFoundException("Trading account", query.AccountId);
        var rows = db.Audit.AsNoTracking().Where(a => a.AccountId == query.AccountId);
        if (query.After is { } after) rows = rows.Where(a => a.Id > after);
        var (items, next) = await rows.OrderBy(a => a.Id)
            .Select(a => new AuditItem(a.Id, a.EntityType, a.EntityId, a.EntityVersion, a.Action, a.Actor, a.Before, a.After, a.At))
            .PageAsync(query.Limit, a => a.Id, ct);
        return new AuditPage(items, next);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id}/audit", async Task<Ok<AuditPage>> (Guid id, int? limit, long? after, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetAudit(caller, id, limit ?? GetAudit.DefaultLimit, after), ct)))
            .WithName(nameof(GetAudit)).Sends<GetAudit>().WithSummary("Who changed what and when, before and after; pass 'next' back as 'after'.");
}
