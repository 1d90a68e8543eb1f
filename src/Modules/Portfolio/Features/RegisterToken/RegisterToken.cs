namespace Monolith.Portfolio.Features;

/// <summary>Makes a token tradable, for every portfolio: an operator's act. Registering a symbol again with the same quote currency is a no-op.</summary>
public sealed record RegisterToken(Caller Caller, string Symbol, string QuoteCurrency) : ICommand<TokenResponse>, ICallerRequest;

public sealed record TokenResponse(string Symbol, string QuoteCurrency);

/// <summary>The registered tokens, a page at a time in symbol order: <see cref="After"/> is the previous page's last symbol.</summary>
public sealed record ListTokens(int Limit = ListTokens.DefaultLimit, string? After = null) : IRequest<IReadOnlyList<TokenResponse>>
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;
}

internal sealed class RegisterTokenValidator : AbstractValidator<RegisterToken>
{
    public RegisterTokenValidator()
    {
        RuleFor(x => x.Symbol).NotEmpty().Matches(Token.SymbolPattern)
            .WithMessage("'{PropertyName}' must be 1 to 16 capital letters or digits.");
        RuleFor(x => x.QuoteCurrency).MustBeACurrencyCode();
    }
}

internal sealed class ListTokensValidator : AbstractValidator<ListTokens>
{
    public ListTokensValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, ListTokens.MaxLimit);
        RuleFor(x => x.After).Matches(Token.SymbolPattern).WithMessage("'{PropertyName}' must be a symbol: 1 to 16 capital letters or digits.");
    }
}

internal sealed class RegisterTokenHandler(IConcurrencyStrategy<PortfolioDbContext> strategy, PortfolioDbContext db)
    : IRequestHandler<RegisterToken, TokenResponse>, IRequestHandler<ListTokens, IReadOnlyList<TokenResponse>>
{
    public async Task<TokenResponse> Handle(RegisterToken command, CancellationToken ct)
    {
        command.Caller.EnsureOperator("register a token");
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
        await db.Tokens.AsNoTracking().Where(t => query.After == null || string.Compare(t.Symbol, query.After) > 0)
            .OrderBy(t => t.Symbol).Take(query.Limit).Select(t => new TokenResponse(t.Symbol, t.QuoteCurrency)).ToListAsync(ct);

    internal static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/tokens/{symbol}", async Task<Ok<TokenResponse>> (string symbol, QuoteCurrencyRequest body, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new RegisterToken(caller, symbol, body.QuoteCurrency), ct)))
            .WithName(nameof(RegisterToken)).Sends<RegisterToken>().OperatorOnly()
            .WithSummary("Registers a token with its quote currency (operators only); repeating it is harmless.");
        api.MapGet("/tokens", async Task<Ok<IReadOnlyList<TokenResponse>>> (int? limit, string? after, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new ListTokens(limit ?? ListTokens.DefaultLimit, after), ct)))
            .WithName(nameof(ListTokens)).Sends<ListTokens>().WithSummary("The registered tokens in symbol order; pass the last symbol back as 'after' for the next page.");
    }
}

public sealed record QuoteCurrencyRequest(string QuoteCurrency);
