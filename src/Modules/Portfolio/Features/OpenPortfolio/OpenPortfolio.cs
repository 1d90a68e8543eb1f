namespace Monolith.Portfolio.Features;

public sealed record OpenPortfolio(string Owner, string? IdempotencyKey = null) : ICommand<PortfolioResponse>, IIdempotentCommand;

public sealed record OpenPortfolioRequest(string Owner);

public sealed record PortfolioResponse(Guid Id, string Owner)
{
    internal static PortfolioResponse From(Domain.Portfolio p) => new(p.Id, p.Owner);
}

internal sealed class OpenPortfolioValidator : AbstractValidator<OpenPortfolio>
{
    public OpenPortfolioValidator()
    {
        RuleFor(x => x.Owner).NotEmpty().MaximumLength(Domain.Portfolio.MaxOwnerLength)
            .Must(owner => owner is null || owner == owner.Trim()).WithMessage("'{PropertyName}' must not start or end with white space.")
            .MustBePlainText();
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
            opened = Domain.Portfolio.Open(command.Owner);
            session.Db.Portfolios.Add(opened);
            return Task.FromResult(opened.Id);
        }, ct);

        // The committed run opened this portfolio; a replayed key's portfolio is read back.
        if (opened?.Id == id) return PortfolioResponse.From(opened);
        return PortfolioResponse.From(await db.Portfolios.AsNoTracking().SingleAsync(p => p.Id == id, ct));
    }

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/portfolios", async Task<Created<PortfolioResponse>> (
                OpenPortfolioRequest body, [FromHeader(Name = IIdempotentCommand.Header)] string? idempotencyKey, IMediator mediator, CancellationToken ct) =>
            {
                var portfolio = await mediator.Send(new OpenPortfolio(body.Owner, idempotencyKey), ct);
                return TypedResults.Created($"/api/portfolio/portfolios/{portfolio.Id}/holdings", portfolio);
            })
            .WithName(nameof(OpenPortfolio)).Sends<OpenPortfolio>().WithSummary("Opens a portfolio for an owner.");
}
