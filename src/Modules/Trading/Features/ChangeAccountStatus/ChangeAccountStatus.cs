namespace Monolith.Trading.Features;

/// <summary>
/// The account's state machine: Active ⇄ Suspended, either → Closed, nothing out of Closed. Resuming needs the max
/// drawdown back under the limit (never, as it only grows, unless the limit is raised); closing needs no open trade
/// and no pending order.
/// </summary>
public sealed record ChangeAccountStatus(Guid AccountId, AccountStatus To, string Actor = TradingModule.DefaultActor) : ICommand<TradingAccountResponse>;

internal sealed class ChangeAccountStatusValidator : AbstractValidator<ChangeAccountStatus>
{
    public ChangeAccountStatusValidator()
    {
        RuleFor(x => x.AccountId).NotEmpty();
        RuleFor(x => x.To).IsInEnum();
        RuleFor(x => x.Actor).MustBeAnActor();
    }
}

internal sealed class ChangeAccountStatusHandler(IConcurrencyStrategy<TradingDbContext> strategy, TimeProvider clock)
    : IRequestHandler<ChangeAccountStatus, TradingAccountResponse>
{
    public async Task<TradingAccountResponse> Handle(ChangeAccountStatus command, CancellationToken ct)
    {
        TradingAccount? changed = null;
        await strategy.ExecuteAsync(WriteKeys.Of<TradingAccount>(command.AccountId), async (session, token) =>
        {
            var account = changed = await session.LoadOneForWriteAsync<TradingAccount>(command.AccountId, "Trading account", token);
            if (command.To == AccountStatus.Closed &&
                (await session.Db.Trades.AnyAsync(t => t.AccountId == account.Id && t.ExitPrice == null, token) ||
                 await session.Db.Orders.AnyAsync(o => o.AccountId == account.Id && o.Status == OrderStatus.Pending, token)))
                throw new BusinessRuleException("Account has open positions", $"Account {account.Id} has open trades or pending orders; close or cancel them first.");
            var before = account.State();
            account.MoveTo(command.To, command.Actor, clock.GetUtcNow().ToStoredPrecision());
            session.Db.Audit.Add(AuditEntry.Of(account.Id, account, $"{before.Status} -> {command.To}", command.Actor, before));
        }, ct);
        return TradingAccountResponse.From(changed!);
    }

    internal static void Map(IEndpointRouteBuilder api)
    {
        foreach (var (path, to) in new[] { ("suspend", AccountStatus.Suspended), ("resume", AccountStatus.Active), ("close", AccountStatus.Closed) })
            api.MapPost($"/accounts/{{id}}/{path}", async Task<Ok<TradingAccountResponse>> (
                    Guid id, [FromHeader(Name = TradingModule.ActorHeader)] string? actor, IMediator mediator, CancellationToken ct) =>
                    TypedResults.Ok(await mediator.Send(new ChangeAccountStatus(id, to, actor ?? TradingModule.DefaultActor), ct)))
                .WithName($"{path}Account").Sends<ChangeAccountStatus>().WithSummary($"Moves the account to {to}; a transition the state machine does not allow gets 422.");
    }
}
