namespace Monolith.Portfolio.Features;

/// <summary>Makes a token tradable, for every portfolio: an operator's act. Registering a symbol again with the same quote currency is a no-op.</summary>
public sealed record RegisterToken(Caller Caller, string Symbol, string QuoteCurrency) : ICommand<TokenResponse>, ICallerRequest;

public sealed record TokenResponse(string Symbol, string QuoteCurrency);

internal sealed class RegisterTokenValidator : AbstractValidator<RegisterToken>
{
    public RegisterTokenValidator()
    {
        RuleFor(x => x.Symbol).NotEmpty().Matches(Token.SymbolPattern)
            .WithMessage("'{PropertyName}' must be 1 to 16 capital letters or digits.");
        RuleFor(x => x.QuoteCurrency).MustBeACurrencyCode();
    }
}

internal sealed class RegisterTokenHandler(IConcurrencyStrategy<PortfolioDbContext> strategy)
    : IRequestHandler<RegisterToken, TokenResponse>
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

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/tokens/{symbol}", async Task<Ok<TokenResponse>> (string symbol, QuoteCurrencyRequest body, Caller caller, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new RegisterToken(caller, symbol, body.QuoteCurrency), ct)))
            .WithName(nameof(RegisterToken)).Sends<RegisterToken>().OperatorOnly()
            .WithSummary("Registers a token with its quote currency (operators only); repeating it is harmless.");
}

public sealed record QuoteCurrencyRequest(string QuoteCurrency);
