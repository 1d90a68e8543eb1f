namespace Monolith.Ledger.Features;

/// <summary>Money in from an external source: a one-legged operation, which only an operator makes, into anyone's account.</summary>
public sealed record Deposit(Caller Caller, Guid AccountId, decimal Amount, string? IdempotencyKey = null) : ICashCommand;

/// <summary>Money out to an external destination: a one-legged operation, which only the account's owner makes.</summary>
public sealed record Withdraw(Caller Caller, Guid AccountId, decimal Amount, string? IdempotencyKey = null) : ICashCommand;

public interface ICashCommand : ICommand<CashResponse>, IIdempotentCommand
{
    Guid AccountId { get; }
    decimal Amount { get; }
}

public sealed record CashResponse(Guid OperationId, Guid AccountId, decimal Amount, decimal BalanceAfter)
{
    internal static CashResponse From(LedgerEntry e) => new(e.OperationId, e.AccountId, e.Amount, e.BalanceAfter);
}

public sealed record AmountRequest(decimal Amount);

internal abstract class CashValidator<TCommand> : AbstractValidator<TCommand> where TCommand : ICashCommand
{
    public CashValidator()
    {
        RuleFor(x => x.AccountId).NotEmpty();
        RuleFor(x => x.Amount).MustBeAnAmount();
        RuleFor(x => x.IdempotencyKey).MustBeAnIdempotencyKey();
    }
}

internal sealed class DepositValidator : CashValidator<Deposit>;
internal sealed class WithdrawValidator : CashValidator<Withdraw>;

internal sealed class CashHandler(IConcurrencyStrategy<LedgerDbContext> strategy, LedgerDbContext db)
    : IRequestHandler<Deposit, CashResponse>, IRequestHandler<Withdraw, CashResponse>
{
    public Task<CashResponse> Handle(Deposit command, CancellationToken ct)
    {
        command.Caller.EnsureOperator("deposit money from outside the ledger");
        return PostAsync(command, command.Amount, OperationKind.Deposit, ct);
    }

    public Task<CashResponse> Handle(Withdraw command, CancellationToken ct) => PostAsync(command, -command.Amount, OperationKind.Withdrawal, ct);

    async Task<CashResponse> PostAsync<TCommand>(TCommand command, decimal signedAmount, OperationKind operation, CancellationToken ct)
        where TCommand : ICashCommand
    {
        LedgerEntry? written = null;
        var operationId = await strategy.ExecuteOnceAsync(command, WriteKeys.Of<Account>(command.AccountId), async (session, token) =>
        {
            var account = await session.LoadOneForWriteAsync<Account>(command.AccountId, "Account", token);
            // A deposit may go into anyone's account; money leaves one only at its owner's request.
            if (operation != OperationKind.Deposit) command.Caller.Spends(account, "Account", account.Id);
            var entry = account.Post(signedAmount, Guid.CreateVersion7(), operation);
            session.Db.Entries.Add(entry);
            written = entry;
            return entry.OperationId;
        }, ct);

        // The committed run wrote this entry; a replayed key's entry is read back.
        if (written?.OperationId == operationId) return CashResponse.From(written);
        return CashResponse.From(await db.Entries.AsNoTracking().SingleAsync(e => e.OperationId == operationId, ct));
    }

    internal static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/accounts/{id}/deposits", (Guid id, AmountRequest body, [FromHeader(Name = IIdempotentCommand.Header)] string idempotencyKey,
                Caller caller, IMediator mediator, CancellationToken ct) => SendAsync(new Deposit(caller, id, body.Amount, idempotencyKey), mediator, ct))
            .WithName(nameof(Deposit)).Sends<Deposit>().OperatorOnly().WithSummary("Credits an account from an external source (operators only).");
        api.MapPost("/accounts/{id}/withdrawals", (Guid id, AmountRequest body, [FromHeader(Name = IIdempotentCommand.Header)] string idempotencyKey,
                Caller caller, IMediator mediator, CancellationToken ct) => SendAsync(new Withdraw(caller, id, body.Amount, idempotencyKey), mediator, ct))
            .WithName(nameof(Withdraw)).Sends<Withdraw>().WithSummary("Debits an account to an external destination; never below its overdraft limit.");
    }

    // MediatR finds the handler by the command's runtime type, Deposit or Withdraw.
    static async Task<Created<CashResponse>> SendAsync(ICashCommand command, IMediator mediator, CancellationToken ct)
    {
        var response = await mediator.Send(command, ct);
        return TypedResults.Created($"/api/ledger/accounts/{response.AccountId}/entries", response);
    }
}
