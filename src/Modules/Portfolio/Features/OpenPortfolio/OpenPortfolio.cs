namespace Monolith.Portfolio.Features;

/// <summary>Opens a portfolio owned by the caller.</summary>
public sealed record OpenPortfolio(Caller Caller, string? IdempotencyKey = null) : ICommand<PortfolioResponse>, IIdempotentCommand;

public sealed record PortfolioResponse(Guid Id, string Owner)
{
    internal static PortfolioResponse From(Domain.Portfolio p) => new(p.Id, p.Owner);
}

internal sealed class OpenPortfolioValidator : AbstractValidator<OpenPortfolio>
{
    public OpenPortfolioValidator()
    {
        RuleFor(x => x.IdempotencyKey).MustBeAnIdempotencyKey();
    }
}

internal sealed class OpenPortfolioHandler(IConcurrencyStrategy<PortfolioDbContext> strategy, PortfolioDbContext db)
    : IRequestHandler<OpenPortfolio, PortfolioResponse>
{
    public async Task<PortfolioResponse> Handle(OpenPortfolio command, CancellationToken ct)
    {
        Domain.Portfolio? opened = null;
        var id = await strategy.ExecuteOnceAsync(command, (session, token) =>
        {
            opened = Domain.Portfolio.Open(command.Caller.Subject);
            session.Db.Portfolios.Add(opened);
            return Task.FromResult(opened.Id);
        }, ct);

        // The committed run opened this portfolio; a replayed key's portfolio is read back.
        if (opened?.Id == id) return PortfolioResponse.From(opened);
        return PortfolioResponse.From(await db.Portfolios.AsNoTracking().SingleAsync(p => p.Id == id, ct));
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/portfolios", async Task<Created<PortfolioResponse>> (
                [FromHeader(Name = IIdempotentCommand.Header)] string? idempotencyKey, Caller caller, IMediator mediator, CancellationToken ct) =>
            {
                var portfolio = await mediator.Send(new OpenPortfolio(caller, idempotencyKey), ct);
                return TypedResults.Created($"/api/portfolio/portfolios/{portfolio.Id}/holdings", portfolio);
            })
            .WithName(nameof(OpenPortfolio)).Sends<OpenPortfolio>().WithSummary("Opens a portfolio owned by the caller.");
}
