namespace Monolith.Trading.Features;

/// <summary>
/// The account's state machine: Active ⇄ Suspended, either → Closed, nothing out of Closed. Resuming needs the max
/// drawdown back under the limit (never, as it only grows, unless the limit is raised); closing needs no open trade
/// and no pending order. Suspending and resuming are an operator's acts, on any account; closing is the owner's.
/// </summary>
public sealed record ChangeAccountStatus(Caller Caller, Guid AccountId, AccountStatus To) : ICommand<TradingAccountResponse>, ICallerRequest;

internal sealed class ChangeAccountStatusValidator : AbstractValidator<ChangeAccountStatus>
{
    public ChangeAccountStatusValidator()
    {
        RuleFor(x => x.AccountId).NotEmpty();
        RuleFor(x => x.To).IsInEnum();
    }
}

internal sealed class ChangeAccountStatusHandler(IConcurrencyStrategy<TradingDbContext> strategy, TimeProvider clock)
    : IRequestHandler<ChangeAccountStatus, TradingAccountResponse>
{
    public async Task<TradingAccountResponse> Handle(ChangeAccountStatus command, CancellationToken ct)
    {
        if (command.To != AccountStatus.Closed) command.Caller.EnsureOperator("suspend or resume a trading account");
        TradingAccount? changed = null;
        await strategy.ExecuteAsync(WriteKeys.Of<TradingAccount>(command.AccountId), async (session, token) =>
        {
            var account = changed = await session.LoadOneForWriteAsync<TradingAccount>(command.AccountId, "Trading account", token);
            if (command.To == AccountStatus.Closed) command.Caller.Spends(account, "Trading account", command.AccountId);
            if (command.To == AccountStatus.Closed &&
                (await session.Db.Trades.AnyAsync(t => t.AccountId == account.Id && t.ExitPrice == null, token) ||
                 await session.Db.Orders.AnyAsync(o => o.AccountId == account.Id && o.Status == OrderStatus.Pending, token)))
                throw new BusinessRuleException("Account has open positions", $"Account {account.Id} has open trades or pending orders; close or cancel them first.");
            var before = account.State();
            account.MoveTo(command.To, command.Caller.Subject, clock.GetUtcNow().ToStoredPrecision());
            session.Db.Audit.Add(AuditEntry.Of(account.Id, account, $"{before.Status} -> {command.To}", command.Caller.Subject, before));
        }, ct);
        return TradingAccountResponse.From(changed!);
    }

    internal static void Map(IEndpointRouteBuilder api)
    {
        foreach (var (path, to) in new[] { ("suspend", AccountStatus.Suspended), ("resume", AccountStatus.Active), ("close", AccountStatus.Closed) })
        {
            var route = api.MapPost($"/accounts/{{id}}/{path}", async Task<Ok<TradingAccountResponse>> (
                    Guid id, Caller caller, IMediator mediator, CancellationToken ct) =>
                    TypedResults.Ok(await mediator.Send(new ChangeAccountStatus(caller, id, to), ct)))
                .WithName($"{path}Account").Sends<ChangeAccountStatus>()
                .WithSummary(to == AccountStatus.Closed
                    ? "Closes the caller's account; a transition the state machine does not allow gets 422."
                    : $"Moves any account to {to} (operators only); a transition the state machine does not allow gets 422.");
            if (to != AccountStatus.Closed) route.OperatorOnly();
        }
    }
}
