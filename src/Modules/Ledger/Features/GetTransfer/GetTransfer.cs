namespace Monolith.Ledger.Features;

/// <summary>A transfer, where its POST's Location points.</summary>
public sealed record GetTransfer(Caller Caller, Guid Id) : IRequest<TransferResponse>, ICallerRequest;

internal sealed class GetTransferHandler(LedgerDbContext db) : IRequestHandler<GetTransfer, TransferResponse>
{
    /// <summary>Both sides of a transfer may read it, the payer and the payee, and so may an operator; anyone else is told it does not exist.</summary>
    public async Task<TransferResponse> Handle(GetTransfer query, CancellationToken ct)
    {
        var found = await (
                from transfer in db.Transfers.AsNoTracking()
                where transfer.Id == query.Id
                join payer in db.Accounts on transfer.FromAccountId equals payer.Id
                join payee in db.Accounts on transfer.ToAccountId equals payee.Id
                select new { Transfer = transfer, Payer = payer.Owner, Payee = payee.Owner })
            .SingleOrDefaultAsync(ct);
        var caller = query.Caller;
        if (found is null || !(caller.IsOperator || found.Payer == caller.Subject || found.Payee == caller.Subject))
            throw new NotFoundException("Transfer", query.Id);
        return TransferResponse.From(found.Transfer);
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/transfers/{id}", async Task<Ok<TransferResponse>> (Guid id, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new GetTransfer(caller, id), ct)))
            .WithName(nameof(GetTransfer)).Sends<GetTransfer>().WithSummary("A transfer, to its payer, its payee or an operator.");
}
