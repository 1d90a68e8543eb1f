namespace Monolith.Ledger.Features;

public sealed record Transfer(Caller Caller, Guid FromAccountId, Guid ToAccountId, decimal Amount, string? IdempotencyKey = null)
    : ICommand<TransferResponse>, IIdempotentCommand;

public sealed record TransferResponse(Guid Id, Guid FromAccountId, Guid ToAccountId, decimal Amount, DateTimeOffset CreatedAt)
{
    internal static TransferResponse From(LedgerTransfer t) => new(t.Id, t.FromAccountId, t.ToAccountId, t.Amount, t.CreatedAt);
}

public sealed record TransferRequest(Guid FromAccountId, Guid ToAccountId, decimal Amount);

internal sealed class TransferValidator : AbstractValidator<Transfer>
{
    public TransferValidator()
    {
        RuleFor(x => x.FromAccountId).NotEmpty();
        RuleFor(x => x.ToAccountId).NotEmpty().NotEqual(x => x.FromAccountId).WithMessage("A transfer needs two distinct accounts.");
        RuleFor(x => x.Amount).MustBeAnAmount();
        RuleFor(x => x.IdempotencyKey).MustBeAnIdempotencyKey();
    }
}

internal sealed class TransferHandler(IConcurrencyStrategy<LedgerDbContext> strategy, LedgerDbContext db)
    : IRequestHandler<Transfer, TransferResponse>
{
    public async Task<TransferResponse> Handle(Transfer command, CancellationToken ct)
    {
        LedgerTransfer? written = null;
        var transferId = await strategy.ExecuteOnceAsync(command, WriteKeys.Of<Account>(command.FromAccountId, command.ToAccountId), async (session, token) =>
        {
            var accounts = await session.LoadForWriteAsync<Account>([command.FromAccountId, command.ToAccountId], token);
            // The payer's rights over the source are all a transfer needs: anyone's account may receive.
            var from = command.Caller.Spends(accounts.SingleOrDefault(a => a.Id == command.FromAccountId), "Account", command.FromAccountId);
            var to = accounts.SingleOrDefault(a => a.Id == command.ToAccountId) ?? throw new NotFoundException("Account", command.ToAccountId);
            if (from.Currency != to.Currency)
                throw new BusinessRuleException("Currency mismatch", $"Account {from.Id} holds {from.Currency}; account {to.Id} does not.");

            var transfer = new LedgerTransfer(from.Id, to.Id, from.Currency, command.Amount);
            session.Db.Transfers.Add(transfer);
            session.Db.Entries.Add(from.Post(-command.Amount, transfer.Id, OperationKind.Transfer));
            session.Db.Entries.Add(to.Post(command.Amount, transfer.Id, OperationKind.Transfer));
            written = transfer;
            return transfer.Id;
        }, ct);

        // The committed run wrote this transfer (saving filled in its CreatedAt); a replayed key's transfer is read back.
        if (written?.Id == transferId) return TransferResponse.From(written);
        return TransferResponse.From(await db.Transfers.AsNoTracking().SingleAsync(t => t.Id == transferId, ct));
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/transfers", async Task<Created<TransferResponse>> (
                TransferRequest body, [FromHeader(Name = IIdempotentCommand.Header)] string idempotencyKey, Caller caller, IMediator mediator, CancellationToken ct) =>
            {
                var transfer = await mediator.Send(new Transfer(caller, body.FromAccountId, body.ToAccountId, body.Amount, idempotencyKey), ct);
                return TypedResults.Created($"/api/ledger/transfers/{transfer.Id}", transfer);
            })
            .WithName(nameof(Transfer)).Sends<Transfer>()
            // Its accounts are named in the body, not the route.
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Moves an amount between two accounts of one currency.");
}
