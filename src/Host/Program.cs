using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Monolith.Host;
using Monolith.Lab;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Endpoints;
using Monolith.Shared.Errors;
using Monolith.Shared.Modules;
using Monolith.Shared.Persistence;
using Scalar.AspNetCore;

// `token SUBJECT [--operator]`: prints a token signed with this configuration's key, and nothing else (./dev token).
if (args is ["token", var subject, .. var rest])
{
    var isOperator = rest.Contains("--operator");
    var options = AccessTokenOptions.From(WebApplication.CreateBuilder(rest.Where(a => a != "--operator").ToArray()).Configuration);
    try
    {
        Console.WriteLine(AccessTokens.Mint(options, subject, isOperator));
        return 0;
    }
    catch (Exception e) when (e is ArgumentException or InvalidOperationException)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
}

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
    // The web defaults read "10" as the number 10; an amount is a JSON number or it is refused.
    o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
    // A misspelt field would otherwise be dropped and its default (0, no id) validated in its place.
    o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    o.SerializerOptions.Converters.Add(new Instants.JsonConverter());
    // Every enum in a response by its name, never its number.
    o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
});
// A request that cannot be bound throws in every environment, so the exception handler answers it with the field
// (BindingFailure) instead of the framework's bare 400.
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
// Kestrel refuses a header value that is not ASCII with an empty 400; decoded, it reaches the validators, which
// refuse it with its field.
builder.WebHost.ConfigureKestrel(k =>
{
    k.RequestHeaderEncodingSelector = _ => System.Text.Encoding.UTF8;
    // The largest valid body is under 1 KB; a bigger one is refused with 413 before it is parsed.
    k.Limits.MaxRequestBodySize = builder.Configuration.GetValue<long?>("Kestrel:Limits:MaxRequestBodySize") ?? 16 * 1024;
});
builder.Services.AddOpenApi(AccessTokens.DeclareBearerScheme);
builder.Services.AddBearerAuthentication(builder.Configuration);
RateLimitOptions.AddRateLimits(builder.Services, builder.Configuration);
builder.Services.AddModules(builder.Configuration);
builder.AddHostTelemetry();
builder.AddLab();

var app = builder.Build();

app.UseExceptionHandler();
// The 401 and 403 of the authorization middleware have no body; this gives them a problem, as every refusal has.
app.UseStatusCodePages();
app.UseAuthentication();
// After authentication, so that a caller's requests share one bucket whatever address they come from.
app.UseRateLimiter();
app.UseAuthorization();

if (app.Configuration.GetValue("Database:MigrateOnStartup", true))
    await app.Services.MigrateModulesAsync();
foreach (var module in ModuleCatalog.All)
{
    try
    {
        await module.RecoverAsync(app.Services);
    }
    catch (ServiceUnavailableException e)
    {
        // A service the recovery writes through (the Redis lock) is down: the API starts anyway (its writes answer
        // 503) and the next start recovers.
        app.Logger.LogWarning(e, "{Module} recovery skipped: {Message}", module.Name, e.Message);
    }
}

app.MapOpenApi();
app.MapScalarApiReference("/docs", o => o.WithTitle("Monolith API").AddPreferredSecuritySchemes(AccessTokens.SchemeName));
app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync });
app.MapHostTelemetry();
app.MapLab();
app.MapGet("/", () => TypedResults.Redirect("/docs")).ExcludeFromDescription();
foreach (var module in ModuleCatalog.All)
    module.MapEndpoints(app.MapGroup($"/api/{module.RoutePrefix}").WithTags(module.Name).RequireAuthorization().WithRequestConventions());

app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var address in app.Urls)
        app.Logger.LogInformation("Monolith API on {Address} ({Provider}); API docs: {Address}/docs, OpenAPI: {Address}/openapi/v1.json, metrics: {Address}/metrics{Lab}",
            address, DatabaseProvider.Current, address, address, address, !LabOptions.From(app.Configuration).Enabled ? "" : $", strategy lab: {address}/lab");
    foreach (var configured in app.Services.GetServices<ConfiguredStrategy>())
        app.Logger.LogInformation("Module {Module} writes through the {Strategy} strategy", configured.Module, configured.Strategy);
});

app.Run();
return 0;

/// <summary>Lets the test host (WebApplicationFactory) find this assembly's entry point.</summary>
public partial class Program;
