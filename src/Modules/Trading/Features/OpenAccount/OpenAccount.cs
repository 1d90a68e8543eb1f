namespace Monolith.Trading.Features;

/// <summary>Opens a trading account owned by the caller.</summary>
public sealed record OpenTradingAccount(Caller Caller, decimal InitialBalance, decimal MaxDrawdownLimitPct)
    : ICommand<TradingAccountResponse>, ICallerRequest;

public sealed record OpenTradingAccountRequest(decimal InitialBalance, decimal MaxDrawdownLimitPct);

internal sealed class OpenTradingAccountValidator : AbstractValidator<OpenTradingAccount>
{
    public OpenTradingAccountValidator()
    {
        RuleFor(x => x.InitialBalance).MustBeAnAmount();
        RuleFor(x => x.MaxDrawdownLimitPct).GreaterThan(0).LessThanOrEqualTo(100)
            .Must(Money.HasAtMostScale).WithMessage($"'{{PropertyName}}' must have at most {Money.Scale} decimal places.");
    }
}

internal sealed class OpenTradingAccountHandler(IConcurrencyStrategy<TradingDbContext> strategy, TimeProvider clock)
    : IRequestHandler<OpenTradingAccount, TradingAccountResponse>
{
    public async Task<TradingAccountResponse> Handle(OpenTradingAccount command, CancellationToken ct)
    {
        var account = await strategy.ExecuteAsync((session, _) =>
        {
            var account = TradingAccount.Open(command.Caller.Subject, command.InitialBalance, command.MaxDrawdownLimitPct, clock.GetUtcNow().ToStoredPrecision());
            session.Db.Accounts.Add(account);
            session.Db.Audit.Add(AuditEntry.Of(account.Id, account, "Opened", command.Caller.Subject, before: null));
            return Task.FromResult(account);
        }, ct);
        return TradingAccountResponse.From(account);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/accounts", async Task<Created<TradingAccountResponse>> (
                OpenTradingAccountRequest body, Caller caller, IMediator mediator, CancellationToken ct) =>
            {
                var account = await mediator.Send(new OpenTradingAccount(caller, body.InitialBalance, body.MaxDrawdownLimitPct), ct);
                return TypedResults.Created($"/api/trading/accounts/{account.Id}", account);
            })
            .WithName(nameof(OpenTradingAccount)).Sends<OpenTradingAccount>().WithSummary("Opens a trading account with its initial balance and max drawdown limit (percent).");
}
