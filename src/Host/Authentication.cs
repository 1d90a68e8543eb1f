using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.OpenApi;
using Monolith.Shared.Access;

namespace Monolith.Host;

/// <summary>
/// The "Authentication" section: bearer tokens from a real identity provider (<see cref="Authority"/>, whose
/// discovery document gives the signing keys) or, for development and tests, HS256 tokens signed with
/// <see cref="SigningKey"/>, which <c>./dev token</c> mints. Either way the issuer and audience are checked.
/// </summary>
public sealed class AccessTokenOptions
{
    public const string Section = "Authentication";

    public string Issuer { get; set; } = "";
    public string Audience { get; set; } = "";
    /// <summary>An OpenID Connect issuer URL; when set, its keys are used and <see cref="SigningKey"/> is ignored.</summary>
    public string? Authority { get; set; }
    /// <summary>A symmetric key of at least 32 bytes (UTF-8), for tokens this deployment mints itself.</summary>
    public string? SigningKey { get; set; }
    /// <summary>How long a minted token lasts.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    public static AccessTokenOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<AccessTokenOptions>() ?? new AccessTokenOptions();

    /// <summary>The settings the Host runs with under ./dev run (Development), read from its content root: what tests and the bench sign with.</summary>
    public static AccessTokenOptions Development(string contentRoot) => From(new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(contentRoot, "appsettings.json"))
        .AddJsonFile(Path.Combine(contentRoot, "appsettings.Development.json"))
        .Build());

    /// <summary>What is wrong with these settings, or null: the Host refuses to start without a way to check tokens.</summary>
    public string? Problem() =>
        string.IsNullOrWhiteSpace(Issuer) || string.IsNullOrWhiteSpace(Audience)
            ? "Authentication:Issuer and Authentication:Audience must be set."
            : Authority is null && Encoding.UTF8.GetByteCount(SigningKey ?? "") < 32
                ? "Set Authentication:Authority (an OpenID Connect issuer) or Authentication:SigningKey (at least 32 bytes); see docs/security.md."
                : null;

    internal SymmetricSecurityKey Key() => new(Encoding.UTF8.GetBytes(SigningKey!));
}

public static class AccessTokens
{
    /// <summary>A token for <paramref name="subject"/>, signed with the configured key, with the operator role if asked.</summary>
    public static string Mint(AccessTokenOptions options, string subject, bool isOperator = false, TimeSpan? lifetime = null)
    {
        if (!Caller.IsValidSubject(subject))
            throw new ArgumentException($"A subject is 1 to {Caller.MaxSubjectLength} printable ASCII characters without spaces.", nameof(subject));
        if (options.SigningKey is null) throw new InvalidOperationException("Authentication:SigningKey is not set: this deployment does not mint tokens.");
        var claims = new Dictionary<string, object> { [Caller.SubjectClaim] = subject };
        if (isOperator) claims[Caller.RoleClaim] = Caller.OperatorRole;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Claims = claims,
            Expires = DateTime.UtcNow + (lifetime ?? options.TokenLifetime),
            SigningCredentials = new SigningCredentials(options.Key(), SecurityAlgorithms.HmacSha256),
        });
    }

    internal static IServiceCollection AddBearerAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        var options = AccessTokenOptions.From(configuration);
        if (options.Problem() is { } problem) throw new InvalidOperationException(problem);

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
        {
            // Claims keep their JWT names ("sub", "role"), which Caller reads; the default maps them to long URIs.
            jwt.MapInboundClaims = false;
            if (options.Authority is not null) jwt.Authority = options.Authority;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = options.Issuer,
                ValidAudience = options.Audience,
                IssuerSigningKey = options.Authority is null ? options.Key() : null,
                NameClaimType = Caller.SubjectClaim,
                RoleClaimType = Caller.RoleClaim,
                ClockSkew = TimeSpan.FromSeconds(30),
            };
            jwt.Events = new JwtBearerEvents
            {
                // A subject that an owner column or the audit log could not hold is refused here, as a bad token.
                OnTokenValidated = context =>
                {
                    if (!Caller.IsValidSubject(context.Principal?.FindFirst(Caller.SubjectClaim)?.Value))
                        context.Fail($"The token's subject must be 1 to {Caller.MaxSubjectLength} printable ASCII characters.");
                    return Task.CompletedTask;
                },
            };
        });
        services.AddAuthorization();
        // AddAuthentication registers Data Protection, whose hosted service makes and stores a key ring at start (and
        // warns that it is unencrypted). Bearer tokens are checked by their signature, and the API sets no cookie nor
        // protects any payload, so keys that live and die with the process are all it needs.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        return services;
    }

    /// <summary>Declares the bearer scheme, and on every operation that needs a token, the requirement (so Scalar offers to paste one).</summary>
    internal static void DeclareBearerScheme(Microsoft.AspNetCore.OpenApi.OpenApiOptions openApi)
    {
        openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A JWT from the configured identity provider; in development, `./dev token SUBJECT [--operator]` prints one.",
            };
            return Task.CompletedTask;
        });
        openApi.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [] }];
            return Task.CompletedTask;
        });
    }

    internal const string SchemeName = "Bearer";

    /// <summary>The identity a request presented, for the rate limiter's partition: its subject, or none.</summary>
    internal static string? SubjectOf(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true ? user.FindFirst(Caller.SubjectClaim)?.Value : null;
}
