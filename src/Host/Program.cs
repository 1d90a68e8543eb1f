using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Monolith.Host;
using Monolith.Ledger;
using Monolith.Portfolio;
using Monolith.Trading;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase);
builder.Services.AddOpenApi();
builder.Services.AddLedger(builder.Configuration);
builder.Services.AddPortfolio(builder.Configuration);
builder.Services.AddTrading(builder.Configuration);

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();

if (app.Configuration.GetValue("Database:MigrateOnStartup", true))
{
    await app.Services.MigrateLedgerAsync();
    await app.Services.MigratePortfolioAsync();
    await app.Services.MigrateTradingAsync();
}
try
{
    await app.Services.RecoverTradingAsync();
}
catch (Monolith.Shared.Errors.ServiceUnavailableException e)
{
    // The lock service is down: the API starts anyway (its writes answer 503) and the next start recovers.
    app.Logger.LogWarning("Trading recovery skipped: {Message}", e.Message);
}

app.MapOpenApi();
app.MapScalarApiReference("/docs", o => o.WithTitle("Monolith API"));
app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync });
app.MapGet("/", () => TypedResults.Redirect("/docs")).ExcludeFromDescription();
app.MapLedger();
app.MapPortfolio();
app.MapTrading();

app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var address in app.Urls)
        app.Logger.LogInformation("Monolith API on {Address} ({Provider}); API docs: {Address}/docs, OpenAPI: {Address}/openapi/v1.json",
            address, DatabaseProvider.Current, address, address);
    foreach (var configured in app.Services.GetServices<ConfiguredStrategy>())
        app.Logger.LogInformation("Module {Module} writes through the {Strategy} strategy", configured.Module, configured.Strategy);
});

app.Run();

/// <summary>Lets the test host (WebApplicationFactory) find this assembly's entry point.</summary>
public partial class Program;
