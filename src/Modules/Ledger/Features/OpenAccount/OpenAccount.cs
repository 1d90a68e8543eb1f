namespace Monolith.Ledger.Features;

public sealed record OpenAccount(Caller Caller, string Currency, decimal OverdraftLimit = 0, string? IdempotencyKey = null)
    : ICommand<AccountResponse>, IIdempotentCommand;

public sealed record OpenAccountRequest(string Currency, decimal? OverdraftLimit);

internal sealed class OpenAccountValidator : AbstractValidator<OpenAccount>
{
    public OpenAccountValidator()
    {
        RuleFor(x => x.Currency).MustBeACurrencyCode();
        RuleFor(x => x.OverdraftLimit).GreaterThanOrEqualTo(0).LessThanOrEqualTo(Rules.MaxAmount)
            .Must(Money.HasAtMostScale).WithMessage($"'{{PropertyName}}' must have at most {Money.Scale} decimal places.");
        RuleFor(x => x.IdempotencyKey).MustBeAnIdempotencyKey();
    }
}

internal sealed class OpenAccountHandler(IConcurrencyStrategy<LedgerDbContext> strategy, LedgerDbContext db)
    : IRequestHandler<OpenAccount, AccountResponse>
{
    public async Task<AccountResponse> Handle(OpenAccount command, CancellationToken ct)
    {
        Account? opened = null;
        var accountId = await strategy.ExecuteOnceAsync(command, (session, token) =>
        {
            opened = Account.Open(command.Caller.Subject, command.Currency, command.OverdraftLimit);
            session.Db.Accounts.Add(opened);
            return Task.FromResult(opened.Id);
        }, ct);

        // The committed run opened this account; a replayed key's account is read back.
        if (opened?.Id == accountId) return AccountResponse.From(opened);
        return AccountResponse.From(await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == accountId, ct));
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/accounts", async Task<Created<AccountResponse>> (
                OpenAccountRequest body, [FromHeader(Name = IIdempotentCommand.Header)] string? idempotencyKey, Caller caller, IMediator mediator, CancellationToken ct) =>
            {
                var account = await mediator.Send(new OpenAccount(caller, body.Currency, body.OverdraftLimit ?? 0, idempotencyKey), ct);
                return TypedResults.Created($"/api/ledger/accounts/{account.Id}", account);
            })
            .WithName(nameof(OpenAccount)).Sends<OpenAccount>().WithSummary("Opens an account in one currency, with an optional overdraft limit (default 0), owned by the caller.");
}
