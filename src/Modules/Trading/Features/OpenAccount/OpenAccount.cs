namespace Monolith.Trading.Features;

public sealed record OpenTradingAccount(decimal InitialBalance, decimal MaxDrawdownLimitPct, string Actor = TradingModule.DefaultActor)
    : ICommand<TradingAccountResponse>;

public sealed record OpenTradingAccountRequest(decimal InitialBalance, decimal MaxDrawdownLimitPct);

internal sealed class OpenTradingAccountValidator : AbstractValidator<OpenTradingAccount>
{
    public OpenTradingAccountValidator()
    {
        RuleFor(x => x.InitialBalance).MustBeAnAmount();
        RuleFor(x => x.MaxDrawdownLimitPct).GreaterThan(0).LessThanOrEqualTo(100)
            .Must(Money.HasAtMostScale).WithMessage($"'{{PropertyName}}' must have at most {Money.Scale} decimal places.");
        RuleFor(x => x.Actor).MustBeAnActor();
    }
}

internal sealed class OpenTradingAccountHandler(IConcurrencyStrategy<TradingDbContext> strategy, TimeProvider clock)
    : IRequestHandler<OpenTradingAccount, TradingAccountResponse>
{
    public async Task<TradingAccountResponse> Handle(OpenTradingAccount command, CancellationToken ct)
    {
        var account = await strategy.ExecuteAsync((session, _) =>
        {
            var account = TradingAccount.Open(command.InitialBalance, command.MaxDrawdownLimitPct, command.Actor, clock.GetUtcNow().ToStoredPrecision());
            session.Db.Accounts.Add(account);
            session.Db.Audit.Add(AuditEntry.Of(account.Id, account, "Opened", command.Actor, before: null));
            return Task.FromResult(account);
        }, ct);
        return TradingAccountResponse.From(account);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/accounts", async Task<Created<TradingAccountResponse>> (
                OpenTradingAccountRequest body, [FromHeader(Name = TradingModule.ActorHeader)] string? actor, IMediator mediator, CancellationToken ct) =>
            {
                var account = await mediator.Send(new OpenTradingAccount(body.InitialBalance, body.MaxDrawdownLimitPct, actor ?? TradingModule.DefaultActor), ct);
                return TypedResults.Created($"/api/trading/accounts/{account.Id}", account);
            })
            .WithName(nameof(OpenTradingAccount)).Sends<OpenTradingAccount>().WithSummary("Opens a trading account with its initial balance and max drawdown limit (percent).");
}
