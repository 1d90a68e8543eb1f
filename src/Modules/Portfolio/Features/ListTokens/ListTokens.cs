namespace Monolith.Portfolio.Features;

/// <summary>The registered tokens, a page at a time in symbol order: <see cref="After"/> is the previous page's last symbol.</summary>
public sealed record ListTokens(int Limit = ListTokens.DefaultLimit, string? After = null) : IRequest<IReadOnlyList<TokenResponse>>
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;
}

internal sealed class ListTokensValidator : AbstractValidator<ListTokens>
{
    public ListTokensValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, ListTokens.MaxLimit);
        RuleFor(x => x.After).Matches(Token.SymbolPattern).WithMessage("'{PropertyName}' must be a symbol: 1 to 16 capital letters or digits.");
    }
}

internal sealed class ListTokensHandler(PortfolioDbContext db) : IRequestHandler<ListTokens, IReadOnlyList<TokenResponse>>
{
    public async Task<IReadOnlyList<TokenResponse>> Handle(ListTokens query, CancellationToken ct) =>
        await db.Tokens.AsNoTracking().Where(t => query.After == null || string.Compare(t.Symbol, query.After) > 0)
            .OrderBy(t => t.Symbol).Take(query.Limit).Select(t => new TokenResponse(t.Symbol, t.QuoteCurrency)).ToListAsync(ct);

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/tokens", async Task<Ok<IReadOnlyList<TokenResponse>>> (int? limit, string? after, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListTokens(limit ?? ListTokens.DefaultLimit, after), ct)))
            .WithName(nameof(ListTokens)).Sends<ListTokens>().WithSummary("The registered tokens in symbol order; pass the last symbol back as 'after' for the next page.");
}
