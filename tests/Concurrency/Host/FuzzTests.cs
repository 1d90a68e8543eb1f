using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Host;

/// <summary>
/// Every write route of the OpenAPI document, with each field of its body (as the document types it) and its route id
/// and idempotency key drawn from valid and boundary values: no answer is a 500, and no request answered 4xx changes
/// anything (a fingerprint of every table, its rows and its versions, is the same before and after it).
/// </summary>
public sealed class FuzzTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    const int Requests = 5_000;

    [Fact]
    public async Task Random_and_boundary_input_to_every_write_route_never_answers_500_and_no_4xx_changes_anything()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(h => h.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        var client = factory.CreateClient().As(Tester);
        var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement;
        var ids = await ResourcesAsync(client);
        var routes = WriteRoutes(document).ToList();
        var fingerprint = await FingerprintQueryAsync();
        var random = new Random(12);
        var statuses = new Dictionary<int, int>();
        var violations = new List<string>();
        var usedKeys = new List<string> { "fuzz-reused" };

        for (var n = 0; n < Requests; n++)
        {
            var (method, path, fields) = routes[n % routes.Count];
            var url = path.Replace("{symbol}", Pick(random, ["ETH", "BTC", "eth", "ETH%0A", "A%01", new string('X', 17)]));
            url = url.Replace("{id}", Pick(random, [IdFor(path, ids), IdFor(path, ids), Guid.NewGuid().ToString(), "not-a-uuid", "0"]));
            var body = new JsonObject();
            foreach (var (name, type) in fields)
                if (random.Next(10) > 0) body[name] = random.Next(4) > 0 ? Valid(name, ids, random) : Boundary(type, random);
            if (random.Next(30) == 0) body["unknownField"] = 1;
            var request = new HttpRequestMessage(new HttpMethod(method), url)
            {
                Content = new StringContent(random.Next(40) == 0 ? "[1]" : body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            var key = Pick(random, [Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), usedKeys[random.Next(usedKeys.Count)], null, "", new string('k', 101), "a b"]);
            if (key is not null) request.Headers.TryAddWithoutValidation(IIdempotentCommand.Header, key);

            var before = await fingerprint();
            var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status >= 500) violations.Add($"{method} {url} {body.ToJsonString()}: {status} {await response.Content.ReadAsStringAsync()}");
            if (status is >= 400 and < 500 && await fingerprint() != before)
                violations.Add($"{method} {url} {body.ToJsonString()}: answered {status} but changed the database");
            if (status is 200 or 201 && key is { Length: > 0 }) usedKeys.Add(key);
        }

        var figures = $"{Requests} requests over {routes.Count} write routes: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value} × {s.Key}"));
        RaceReport.Write("-", "fuzz of every write route", figures);
        output.WriteLine(figures);
        foreach (var violation in violations.Take(20)) output.WriteLine(violation);
        Assert.Empty(violations);
        Assert.True(statuses.Keys.Any(s => s is 200 or 201), "no fuzzed request was valid: the fuzz reached no handler");
    }

    /// <summary>Write routes and their body fields, with each field's JSON type as the document states it.</summary>
    static IEnumerable<(string Method, string Path, List<(string Name, string Type)> Fields)> WriteRoutes(JsonElement document)
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var path in document.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "post" or "put"))
            {
                var fields = new List<(string, string)>();
                if (operation.Value.TryGetProperty("requestBody", out var requestBody)
                    && requestBody.GetProperty("content").GetProperty("application/json").GetProperty("schema").TryGetProperty("$ref", out var reference))
                {
                    var schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
                    foreach (var property in schema.GetProperty("properties").EnumerateObject())
                        fields.Add((property.Name, TypeOf(property.Value)));
                }
                yield return (operation.Name.ToUpperInvariant(), path.Name, fields);
            }
    }

    static string TypeOf(JsonElement property) =>
        property.TryGetProperty("format", out var format) ? format.GetString()! :
        property.TryGetProperty("type", out var type) ? (type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().First().GetString()! : type.GetString()!) : "string";

    static JsonNode? Valid(string field, Resources ids, Random random) => field switch
    {
        "amount" or "quantity" or "unitPrice" or "localUnitPrice" or "shares" => random.Next(1, 100),
        "price" or "exitPrice" or "limitPrice" => random.Next(1, 20),
        "initialBalance" => 10_000,
        "overdraftLimit" => 0,
        "maxDrawdownLimitPct" => 50,
        "currency" => "EUR",
        "quoteCurrency" => "USD",
        "fromAccountId" => ids.LedgerAccounts[0],
        "toAccountId" => ids.LedgerAccounts[1],
        "symbol" => random.Next(2) == 0 ? "ETH" : "ABC",
        "side" => random.Next(2) == 0 ? "buy" : "sell",
        "executedAt" => Instants.Format(DateTimeOffset.UtcNow.AddDays(-random.Next(1, 30))),
        _ => "fuzz",
    };

    static JsonNode? Boundary(string type, Random random) => type switch
    {
        "number" or "double" or "decimal" => Pick<JsonNode?>(random, [0, -1, 0.000000001m, 999_999_999_999_999_999.99999999m, 1_000_000_000_000_000_000m,
            JsonNode.Parse("1e40"), "1", "Infinity", null, true, JsonNode.Parse("{}")]),
        "uuid" => Pick<JsonNode?>(random, [Guid.Empty.ToString(), Guid.NewGuid().ToString(), "not-a-uuid", "", null, 7]),
        "date-time" => Pick<JsonNode?>(random, ["2026-01-05T12:00:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "yesterday", "", null, 0]),
        _ => Pick<JsonNode?>(random, ["", " ", "USD\n", "BTC\n", "a\u0000b", "\u0007", "é", new string('a', 10_000), "Buy ", "1", null, 5, false, JsonNode.Parse("[]")]),
    };

    static T Pick<T>(Random random, T[] choices) => choices[random.Next(choices.Length)];

    static string IdFor(string path, Resources ids) =>
        path.StartsWith("/api/ledger/", StringComparison.Ordinal) ? ids.LedgerAccounts[0].ToString()
        : path.StartsWith("/api/portfolio/", StringComparison.Ordinal) ? ids.Portfolio.ToString()
        : path.StartsWith("/api/trading/accounts/", StringComparison.Ordinal) ? ids.TradingAccount.ToString()
        : Guid.NewGuid().ToString();

    sealed record Resources(Guid[] LedgerAccounts, Guid Portfolio, Guid TradingAccount);

    static async Task<Resources> ResourcesAsync(HttpClient client)
    {
        async Task<Guid> Created(string path, object body) =>
            (await (await client.PostJsonAsync(path, body)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var a = await Created("/api/ledger/accounts", new { currency = "EUR" });
        var b = await Created("/api/ledger/accounts", new { currency = "EUR" });
        await client.PostJsonAsync($"/api/ledger/accounts/{a}/deposits", new { amount = 1_000_000m });
        await client.PutAsJsonAsync("/api/portfolio/tokens/ETH", new { quoteCurrency = "USD" });
        return new Resources([a, b], await Created("/api/portfolio/portfolios", new { }),
            await Created("/api/trading/accounts", new { initialBalance = 100_000m, maxDrawdownLimitPct = 50m }));
    }

    /// <summary>One query that sums every table's row count and, where rows are versioned, their versions: any write moves it.</summary>
    async Task<Func<Task<decimal>>> FingerprintQueryAsync()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var parts = new List<string>();
        foreach (var db in scope.ServiceProvider.GetServices<ModuleDbContext>())
            foreach (var entity in db.Model.GetEntityTypes())
            {
                var table = DatabaseProvider.ModuleTable(db.Module, entity.GetTableName()!.Replace($"{db.Module}_", ""));
                parts.Add($"(SELECT COUNT(*) FROM {table})");
                if (entity.FindProperty(nameof(IVersioned.Version)) is { } version)
                    parts.Add($"(SELECT COALESCE(SUM({version.GetColumnName()}), 0) FROM {table})");
            }
        var sql = "SELECT " + string.Join(" + ", parts);
        return async () =>
        {
            await using var connection = DatabaseProvider.Connect(database.ConnectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToDecimal(await command.ExecuteScalarAsync());
        };
    }
}
