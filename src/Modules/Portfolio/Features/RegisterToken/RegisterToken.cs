namespace Monolith.Portfolio.Features;

/// <summary>Makes a token tradable. Registering a symbol again with the same quote currency is a no-op.</summary>
public sealed record RegisterToken(string Symbol, string QuoteCurrency) : ICommand<TokenResponse>;

public sealed record TokenResponse(string Symbol, string QuoteCurrency);

public sealed record ListTokens : IRequest<IReadOnlyList<TokenResponse>>;

internal sealed class RegisterTokenValidator : AbstractValidator<RegisterToken>
{
    public RegisterTokenValidator()
    {
        RuleFor(x => x.Symbol).NotEmpty().Matches(Token.SymbolPattern)
            .WithMessage("'{PropertyName}' must be 1 to 16 capital letters or digits.");
        RuleFor(x => x.QuoteCurrency).MustBeACurrencyCode();
    }
}

internal sealed class RegisterTokenHandler(IConcurrencyStrategy<PortfolioDbContext> strategy, PortfolioDbContext db)
    : IRequestHandler<RegisterToken, TokenResponse>, IRequestHandler<ListTokens, IReadOnlyList<TokenResponse>>
{
    public async Task<TokenResponse> Handle(RegisterToken command, CancellationToken ct)
    {
        // Two concurrent registrations of one symbol: the second insert hits the key, re-runs and finds the first.
        return await strategy.ExecuteAsync(async (session, token) =>
        {
            var existing = await session.Db.Tokens.AsNoTracking().SingleOrDefaultAsync(t => t.Symbol == command.Symbol, token);
            if (existing is null) session.Db.Tokens.Add(Token.Register(command.Symbol, command.QuoteCurrency));
            else if (existing.QuoteCurrency != command.QuoteCurrency)
                throw new BusinessRuleException("Token already registered", $"{command.Symbol} is quoted in {existing.QuoteCurrency}, not {command.QuoteCurrency}.");
            return new TokenResponse(command.Symbol, command.QuoteCurrency);
        }, ct);
    }

    public async Task<IReadOnlyList<TokenResponse>> Handle(ListTokens query, CancellationToken ct) =>
        await db.Tokens.AsNoTracking().OrderBy(t => t.Symbol).Select(t => new TokenResponse(t.Symbol, t.QuoteCurrency)).ToListAsync(ct);

    internal static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/tokens/{symbol}", async Task<Ok<TokenResponse>> (string symbol, QuoteCurrencyRequest body, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new RegisterToken(symbol, body.QuoteCurrency), ct)))
            .WithName(nameof(RegisterToken)).Sends<RegisterToken>().WithSummary("Registers a token with its quote currency; repeating it is harmless.");
        api.MapGet("/tokens", async Task<Ok<IReadOnlyList<TokenResponse>>> (IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListTokens(), ct)))
            .WithName(nameof(ListTokens)).Sends<ListTokens>().WithSummary("The registered tokens.");
    }
}

public sealed record QuoteCurrencyRequest(string QuoteCurrency);
