using Monolith.Lab.Invariants;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Lab;
using Monolith.Portfolio.Domain;
using Monolith.Portfolio.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Portfolio;

/// <summary>The Portfolio API through the real Host: its statuses, problem details and idempotency keys.</summary>
public sealed class PortfolioOverHttpTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    const string At = "2024-03-01T10:00:00Z";

    [Fact]
    public async Task Transactions_answer_with_the_holding_after_them_and_replay_by_key()
    {
        await using var factory = HostOnTestDatabase();
        var client = factory.CreateClient().As(Tester);
        var portfolio = await OpenAsync(client);

        var body = Trade("buy", 2m, 100m, 95m, At);
        var created = await client.PostJsonAsync($"/api/portfolio/portfolios/{portfolio}/transactions", body, "buy-1");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var snapshot = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("BTC", snapshot.GetProperty("symbol").GetString());
        Assert.Equal(2m, snapshot.GetProperty("amount").GetDecimal());
        Assert.Equal(100m, snapshot.GetProperty("meanPrice").GetDecimal());
        Assert.Equal(95m, snapshot.GetProperty("localMeanPrice").GetDecimal());

        var replay = await client.PostJsonAsync($"/api/portfolio/portfolios/{portfolio}/transactions", body, "buy-1");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(snapshot.GetProperty("transactionId").GetInt64(), (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("transactionId").GetInt64());
        var reused = await client.PostJsonAsync($"/api/portfolio/portfolios/{portfolio}/transactions", Trade("buy", 3m, 100m, 95m, At), "buy-1");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);

        var holdings = await client.GetFromJsonAsync<JsonElement>($"/api/portfolio/portfolios/{portfolio}/holdings?at=2024-03-01T10:00:00Z");
        Assert.Equal(2m, holdings.GetProperty("items")[0].GetProperty("amount").GetDecimal());
        var before = await client.GetFromJsonAsync<JsonElement>($"/api/portfolio/portfolios/{portfolio}/holdings?at=2024-03-01T09:59:59Z");
        Assert.Equal(0, before.GetProperty("items").GetArrayLength());
        var history = await client.GetFromJsonAsync<JsonElement>($"/api/portfolio/portfolios/{portfolio}/tokens/BTC/history?limit=10");
        Assert.Equal("Buy", history.GetProperty("items")[0].GetProperty("side").GetString());
        Assert.Equal(JsonValueKind.Null, history.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task Bad_input_gets_problems_with_field_errors_and_changes_nothing()
    {
        await using var factory = HostOnTestDatabase();
        var client = factory.CreateClient().As(Tester);
        var portfolio = await OpenAsync(client);
        var path = $"/api/portfolio/portfolios/{portfolio}/transactions";

        var invalid = await client.PostJsonAsync(path, Trade("hold", 0.123456789m, -1m, 1m, DateTimeOffset.UtcNow.AddDays(1).ToString("O")), null);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "side", "quantity", "unitPrice", "executedAt" })
            Assert.True(errors.TryGetProperty(field, out _), $"no field error for {field}: {errors}");

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostJsonAsync($"/api/portfolio/portfolios/{Guid.NewGuid()}/transactions", Trade("buy", 1m, 1m, 1m, At), null)).StatusCode);
        var unknownToken = await client.PostJsonAsync(path, new { symbol = "NOPE", side = "buy", quantity = 1m, unitPrice = 1m, localUnitPrice = 1m, executedAt = At }, null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknownToken.StatusCode);
        var oversell = await client.PostJsonAsync(path, Trade("sell", 1m, 1m, 1m, At), null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, oversell.StatusCode);
        Assert.Equal("Oversell", (await oversell.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        foreach (var (query, field) in new[] { ($"holdings?at=yesterday", "at"), ("tokens/BTC?at=yesterday", "at"), ("tokens/BTC/history?limit=0", "limit"),
                     ("tokens/BTC/history?after=999999", "after") })
        {
            // Query-string values are validated inside the request, and only the exception handler writes the 400,
            // the cursor that only the database can refuse included.
            var refused = await client.GetAsync($"/api/portfolio/portfolios/{portfolio}/{query}");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.True((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _), $"{query}: no field error for {field}");
        }

        var history = await client.GetFromJsonAsync<JsonElement>($"/api/portfolio/portfolios/{portfolio}/tokens/BTC/history");
        Assert.Equal(0, history.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Concurrent_clients_never_get_a_500_and_the_position_recomputes_exactly()
    {
        await using var factory = HostOnTestDatabase();
        var portfolio = await OpenAsync(factory.CreateClient().As(Tester));
        var statuses = new ConcurrentBag<HttpStatusCode>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async c =>
        {
            using var client = factory.CreateClient().As(Tester);
            var random = new Random(c);
            for (var i = 0; i < 20; i++)
            {
                var trade = RandomTrade.Next(random);
                var at = DateTimeOffset.Parse(At).AddMinutes(random.Next(0, 600)).ToString("O");
                var response = await client.PostJsonAsync($"/api/portfolio/portfolios/{portfolio}/transactions",
                    Trade(trade.Side.ToString().ToLowerInvariant(), trade.Quantity, trade.UnitPrice, trade.LocalUnitPrice, at), i % 4 == 0 ? $"{portfolio}-{c}-{i}" : null);
                statuses.Add(response.StatusCode);
            }
        }));

        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Created, HttpStatusCode.UnprocessableEntity, HttpStatusCode.Conflict }));
        Assert.Contains(HttpStatusCode.Created, statuses);
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        Assert.Empty(await PortfolioInvariants.CheckPositionAsync(scope.ServiceProvider.GetRequiredService<PortfolioDbContext>(), Position.IdFor(portfolio, "BTC")));
    }

    WebApplicationFactory<Program> HostOnTestDatabase() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));

    static object Trade(string side, decimal quantity, decimal unitPrice, decimal localUnitPrice, string executedAt) =>
        new { symbol = "BTC", side, quantity, unitPrice, localUnitPrice, executedAt };

    static async Task<Guid> OpenAsync(HttpClient client)
    {
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("/api/portfolio/tokens/BTC", new { quoteCurrency = "USD" })).StatusCode);
        var opened = await client.PostJsonAsync("/api/portfolio/portfolios", new { }, null);
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        return (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
