namespace Monolith.Trading.Features;

/// <summary>A trading strategy's decision that produced no order (hold, skip, ...); decisions that did are recorded with their order.</summary>
public sealed record RecordDecision(Caller Caller, Guid AccountId, string Symbol, string Action, string Reason, string StrategyName)
    : ICommand<DecisionResponse>, ICallerRequest;

public sealed record DecisionRequest(string Symbol, string Action, string Reason, string StrategyName);

public sealed record DecisionResponse(long Id, Guid AccountId, string Symbol, string Action, string Reason, string StrategyName, Guid? OrderId, DateTimeOffset At)
{
    internal static DecisionResponse From(Decision d) => new(d.Id, d.AccountId, d.Symbol, d.Action, d.Reason, d.StrategyName, d.OrderId, d.At);
}

internal sealed class RecordDecisionValidator : AbstractValidator<RecordDecision>
{
    public RecordDecisionValidator()
    {
        RuleFor(x => x.AccountId).NotEmpty();
        RuleFor(x => x.Symbol).NotEmpty().MaximumLength(16).MustBePlainText();
        RuleFor(x => x.Action).NotEmpty().MaximumLength(32).MustBePlainText();
        RuleFor(x => x.Reason).NotNull().MaximumLength(500).MustBePlainText();
        RuleFor(x => x.StrategyName).NotEmpty().MaximumLength(100).MustBePlainText();
    }
}

internal sealed class RecordDecisionHandler(IConcurrencyStrategy<TradingDbContext> strategy) : IRequestHandler<RecordDecision, DecisionResponse>
{
    public async Task<DecisionResponse> Handle(RecordDecision command, CancellationToken ct)
    {
        var decision = await strategy.ExecuteAsync(async (session, token) =>
        {
            if (!await session.Db.Accounts.AnyAsync(a => a.Id == command.AccountId && a.Owner == command.Caller.Subject, token)) throw new NotFoundException("Trading account", command.AccountId);
            var decision = Decision.Of(command.AccountId, command.Symbol, command.Action, command.Reason, command.StrategyName, orderId: null);
            session.Db.Decisions.Add(decision);
            return decision;
        }, ct);
        // Saving numbered the decision and stamped it with the database's clock.
        return DecisionResponse.From(decision);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/accounts/{id}/decisions", async Task<Created<DecisionResponse>> (Guid id, DecisionRequest body, Caller caller, IMediator mediator, CancellationToken ct) =>
            {
                var decision = await mediator.Send(new RecordDecision(caller, id, body.Symbol, body.Action, body.Reason, body.StrategyName), ct);
                return TypedResults.Created($"/api/trading/accounts/{id}/decisions", decision);
            })
            .WithName(nameof(RecordDecision)).Sends<RecordDecision>().WithSummary("Records a strategy's decision that placed no order.");
}
