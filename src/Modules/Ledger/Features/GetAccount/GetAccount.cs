namespace Monolith.Ledger.Features;

public sealed record GetAccount(Caller Caller, Guid Id) : IRequest<AccountResponse>, ICallerRequest;

public sealed record AccountResponse(Guid Id, string Currency, decimal Balance, decimal OverdraftLimit, long Version)
{
    internal static AccountResponse From(Account a) => new(a.Id, a.Currency, a.Balance, a.OverdraftLimit, a.Version);
}

internal sealed class GetAccountHandler(LedgerDbContext db) : IRequestHandler<GetAccount, AccountResponse>
{
    public async Task<AccountResponse> Handle(GetAccount query, CancellationToken ct) =>
        AccountResponse.From(query.Caller.Reads(await db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == query.Id, ct), "Account", query.Id));

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{id}", async Task<Ok<AccountResponse>> (Guid id, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetAccount(caller, id), ct)))
            .WithName(nameof(GetAccount)).Sends<GetAccount>().WithSummary("The account's balance and version.");
}
