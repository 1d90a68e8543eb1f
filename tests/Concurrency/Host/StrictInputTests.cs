using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Persistence;
using Monolith.Portfolio.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Trading.Persistence;

namespace Monolith.Tests.Concurrency.Host;

/// <summary>
/// Input that only looks valid: a trailing newline after a code (.NET's <c>$</c> matches before it), control characters
/// (C0, DEL, C1) in free text, numbers as strings, enums as numbers or padded. Each is a 400 problem and writes nothing.
/// </summary>
public sealed class StrictInputTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Input_that_only_looks_valid_is_refused_with_its_field_and_writes_nothing()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        var client = factory.CreateClient().As(Tester);
        var account = await CreatedIdAsync(client, "/api/ledger/accounts", """{"currency":"EUR"}""");
        var trading = await CreatedIdAsync(client, "/api/trading/accounts", """{"initialBalance":1000,"maxDrawdownLimitPct":10}""");
        var portfolio = await CreatedIdAsync(client, "/api/portfolio/portfolios", "{}");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Put, "/api/portfolio/tokens/ETH", """{"quoteCurrency":"USD"}""")).StatusCode);
        var before = await CountsAsync();

        (HttpMethod Method, string Path, string Body, string? Field)[] refused =
        [
            (HttpMethod.Post, $"/api/portfolio/portfolios/{portfolio}/transactions",
                """{"symbol":"ETH","side":" Buy ","quantity":1,"unitPrice":1,"localUnitPrice":1,"executedAt":"2026-01-05T12:00:00Z"}""", "side"),
            (HttpMethod.Post, $"/api/trading/accounts/{trading}/orders", """{"symbol":"ABC","side":"1","shares":1,"limitPrice":1,"strategyName":"s"}""", "side"),
            // JSON that cannot be bound: the member that failed, as the validator would name it.
            (HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits", """{"amount":"10"}""", "amount"),
            (HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits", """{"amount":"Infinity"}""", "amount"),
            (HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits", """{"amount":1e40}""", "amount"),
            (HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits", """{"ammount":10}""", "ammount"),
            (HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits", """[10]""", "body"),
            (HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits", """{"amount":10""", "body"),
            (HttpMethod.Post, "/api/ledger/transfers", $$"""{"fromAccountId":"{{account}}x","toAccountId":"{{account}}","amount":1}""", "fromAccountId"),
            (HttpMethod.Post, "/api/ledger/accounts", """{"currency":840}""", "currency"),
            (HttpMethod.Post, $"/api/portfolio/portfolios/{portfolio}/transactions",
                """{"symbol":"ETH","side":"buy","quantity":1,"unitPrice":1,"localUnitPrice":1,"executedAt":"2026-01-05T12:00:00"}""", "executedAt"),
            (HttpMethod.Get, $"/api/portfolio/portfolios/{portfolio}/holdings?at=2026-01-05T12:00:00", "", "at"),
            // A malformed id in the route is a malformed request, not an unknown resource.
            (HttpMethod.Post, "/api/ledger/accounts/not-a-uuid/deposits", """{"amount":10}""", "id"),
            (HttpMethod.Get, "/api/trading/accounts/not-a-uuid", "", "id"),
        ];
        foreach (var (method, path, body, field) in refused)
        {
            var response = await SendAsync(client, method, path, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path} {body}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            if (field is null) continue;
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), $"{method} {path} {body}: no field error for {field}: {problem}");
        }

        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Every_free_text_field_refuses_every_control_character_and_every_code_field_a_trailing_newline()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        var client = factory.CreateClient().As(Tester);
        var trading = await CreatedIdAsync(client, "/api/trading/accounts", """{"initialBalance":1000,"maxDrawdownLimitPct":10}""");
        var portfolio = await CreatedIdAsync(client, "/api/portfolio/portfolios", "{}");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Put, "/api/portfolio/tokens/ETH", """{"quoteCurrency":"USD"}""")).StatusCode);
        var before = await CountsAsync();

        var orders = $"/api/trading/accounts/{trading}/orders";
        var decisions = $"/api/trading/accounts/{trading}/decisions";
        var order = new Dictionary<string, object> { ["symbol"] = "ABC", ["side"] = "buy", ["shares"] = 1, ["limitPrice"] = 1, ["strategyName"] = "s", ["reason"] = "r" };
        var decision = new Dictionary<string, object> { ["symbol"] = "ABC", ["action"] = "hold", ["reason"] = "r", ["strategyName"] = "s" };
        var transaction = new Dictionary<string, object> { ["symbol"] = "ETH", ["side"] = "buy", ["quantity"] = 1, ["unitPrice"] = 1, ["localUnitPrice"] = 1, ["executedAt"] = "2026-01-05T12:00:00Z" };
        static string With(Dictionary<string, object> body, string field, string value) => JsonSerializer.Serialize(new Dictionary<string, object>(body) { [field] = value });

        // C0 (NUL, BEL, TAB, LF, US), DEL, and C1 (PAD, NEL, APC): each is a control character .NET's char.IsControl names.
        string[] controls = ["\u0000", "\u0007", "\t", "\n", "\u001f", "\u007f", "\u0080", "\u0085", "\u009f"];
        var cases = new List<(HttpMethod Method, string Path, string Body, string Field)>();
        foreach (var control in controls)
        {
            cases.AddRange(new[] { "strategyName", "reason" }.Select(field => (HttpMethod.Post, orders, With(order, field, $"x{control}y"), field)));
            cases.AddRange(new[] { "symbol", "action", "reason", "strategyName" }.Select(field => (HttpMethod.Post, decisions, With(decision, field, $"x{control}y"), field)));
        }
        // Codes are matched to the end of the text (\z): a trailing newline is not a code.
        cases.AddRange(
        [
            (HttpMethod.Post, "/api/ledger/accounts", """{"currency":"EUR\n"}""", "currency"),
            (HttpMethod.Put, "/api/portfolio/tokens/BTC", """{"quoteCurrency":"USD\n"}""", "quoteCurrency"),
            (HttpMethod.Put, "/api/portfolio/tokens/BTC%0A", """{"quoteCurrency":"USD"}""", "symbol"),
            (HttpMethod.Post, $"/api/portfolio/portfolios/{portfolio}/transactions", With(transaction, "symbol", "ETH\n"), "symbol"),
            (HttpMethod.Post, orders, With(order, "symbol", "ABC\n"), "symbol"),
            (HttpMethod.Get, "/api/portfolio/tokens?after=ETH%0A", "", "after"),
        ]);

        var admitted = new List<string>();
        foreach (var (method, path, body, field) in cases)
        {
            var response = await SendAsync(client, method, path, body);
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json" ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
            if (response.StatusCode != HttpStatusCode.BadRequest || !(problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _)))
                admitted.Add($"{method} {path} {body}: {(int)response.StatusCode}, no field error for {field}");
        }
        Assert.Empty(admitted);
        Assert.Equal(before, await CountsAsync());

        // The same bodies without the control character are written: the refusals were for it alone.
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(client, HttpMethod.Post, orders, With(order, "reason", "x y"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(client, HttpMethod.Post, decisions, With(decision, "symbol", "xy"))).StatusCode);
    }

    [Fact]
    public async Task Missing_or_malformed_idempotency_keys_and_page_limits_out_of_bounds_are_refused_with_their_field()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        var client = factory.CreateClient().As(Tester);
        var account = await CreatedIdAsync(client, "/api/ledger/accounts", """{"currency":"EUR"}""");
        var trading = await CreatedIdAsync(client, "/api/trading/accounts", """{"initialBalance":1000,"maxDrawdownLimitPct":10}""");
        var portfolio = await CreatedIdAsync(client, "/api/portfolio/portfolios", "{}");
        var before = await CountsAsync();

        // Every money-moving POST requires a key (docs/reliability.md), and its OpenAPI operation says so.
        var refused = new List<string>();
        var payee = await CreatedIdAsync(client, "/api/ledger/accounts", """{"currency":"EUR"}""");
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        foreach (var (route, path, body) in new[]
                 {
                     ("/api/ledger/accounts/{id}/deposits", $"/api/ledger/accounts/{account}/deposits", """{"amount":10}"""),
                     ("/api/ledger/accounts/{id}/withdrawals", $"/api/ledger/accounts/{account}/withdrawals", """{"amount":1}"""),
                     ("/api/ledger/transfers", "/api/ledger/transfers", $$"""{"fromAccountId":"{{account}}","toAccountId":"{{payee}}","amount":1}"""),
                     ("/api/portfolio/portfolios/{id}/transactions", $"/api/portfolio/portfolios/{portfolio}/transactions",
                         """{"symbol":"ETH","side":"buy","quantity":1,"unitPrice":1,"localUnitPrice":1,"executedAt":"2026-01-05T12:00:00Z"}"""),
                     ("/api/trading/accounts/{id}/orders", $"/api/trading/accounts/{trading}/orders", """{"symbol":"ABC","side":"buy","shares":1,"limitPrice":1,"strategyName":"s"}"""),
                 })
        {
            var response = await SendAsync(client, HttpMethod.Post, path, body, withKey: false);
            if (response.StatusCode != HttpStatusCode.BadRequest || !(await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(IIdempotentCommand.Header, out _))
                refused.Add($"POST {path} without a key: {(int)response.StatusCode}");
            var declared = document.GetProperty("paths").GetProperty(route).GetProperty("post").TryGetProperty("parameters", out var parameters) &&
                           parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString() == IIdempotentCommand.Header &&
                                                                p.GetProperty("in").GetString() == "header" && p.TryGetProperty("required", out var required) && required.GetBoolean());
            if (!declared) refused.Add($"POST {route}: the document does not mark {IIdempotentCommand.Header} required");
        }

        // A key is 1 to 100 printable ASCII characters without spaces (docs/security.md).
        foreach (var key in new[] { new string('k', IdempotencyRecord.MaxKeyLength + 1), "a b", "caf\u00e9", "\u007fkey" })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits") { Content = new StringContent("""{"amount":10}""", Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation(IIdempotentCommand.Header, key);
            var response = await client.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.BadRequest || !(await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("idempotencyKey", out _))
                refused.Add($"key {JsonSerializer.Serialize(key)}: {(int)response.StatusCode}");
        }
        var longest = await SendAsync(client, HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits", """{"amount":10}""", withKey: false,
            key: new string('k', IdempotencyRecord.MaxKeyLength));
        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);

        // Every list is paged, at most 500 a page.
        foreach (var list in new[]
                 {
                     $"/api/ledger/accounts/{account}/entries", $"/api/portfolio/portfolios/{portfolio}/tokens/ETH/history", "/api/portfolio/tokens",
                     $"/api/trading/accounts/{trading}/trades", $"/api/trading/accounts/{trading}/audit",
                 })
        {
            foreach (var limit in new[] { 0, 501 })
            {
                var response = await client.GetAsync($"{list}?limit={limit}");
                if (response.StatusCode != HttpStatusCode.BadRequest || !(await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("limit", out _))
                    refused.Add($"GET {list}?limit={limit}: {(int)response.StatusCode}");
            }
            var largest = await client.GetAsync($"{list}?limit=500");
            if (largest.StatusCode != HttpStatusCode.OK) refused.Add($"GET {list}?limit=500: {(int)largest.StatusCode}");
        }
        Assert.Empty(refused);
        // Only the payee's account and the deposit under the longest key were written.
        var after = await CountsAsync();
        Assert.Equal(before with { Accounts = before.Accounts + 1, Entries = before.Entries + 1 }, after);
    }

    [Fact]
    public async Task A_retry_that_writes_an_amount_another_way_is_the_same_request_and_enums_answer_by_name()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        var client = factory.CreateClient().As(Tester);
        var account = await CreatedIdAsync(client, "/api/ledger/accounts", """{"currency":"EUR"}""");
        var key = Guid.NewGuid().ToString();
        HttpRequestMessage Deposit(string amount) => new(HttpMethod.Post, $"/api/ledger/accounts/{account}/deposits")
        {
            Content = new StringContent($$"""{"amount":{{amount}}}""", Encoding.UTF8, "application/json"),
            Headers = { { IIdempotentCommand.Header, key } },
        };
        var first = await client.SendAsync(Deposit("1"));
        var again = await client.SendAsync(Deposit("1.0"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("operationId").GetGuid(),
            (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("operationId").GetGuid());
        var balance = await client.GetFromJsonAsync<JsonElement>($"/api/ledger/accounts/{account}");
        Assert.Equal(1m, balance.GetProperty("balance").GetDecimal());

        var trading = await CreatedIdAsync(client, "/api/trading/accounts", """{"initialBalance":1000,"maxDrawdownLimitPct":10}""");
        var opened = await client.GetFromJsonAsync<JsonElement>($"/api/trading/accounts/{trading}");
        Assert.Equal("Active", opened.GetProperty("status").GetString());
    }

    /// <summary>Rows every module holds: nothing refused may add one.</summary>
    async Task<(int Accounts, int Entries, int Tokens, int Portfolios, int Transactions, int Orders, int Decisions)> CountsAsync()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var ledger = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var portfolio = scope.ServiceProvider.GetRequiredService<PortfolioDbContext>();
        var trading = scope.ServiceProvider.GetRequiredService<TradingDbContext>();
        return (await ledger.Accounts.CountAsync(), await ledger.Entries.CountAsync(), await portfolio.Tokens.CountAsync(), await portfolio.Portfolios.CountAsync(),
            await portfolio.Transactions.CountAsync(), await trading.Orders.CountAsync(), await trading.Decisions.CountAsync());
    }

    static async Task<Guid> CreatedIdAsync(HttpClient client, string path, string body)
    {
        var response = await SendAsync(client, HttpMethod.Post, path, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string body, bool withKey = true, string? key = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Get) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (withKey || key is not null) request.Headers.Add(IIdempotentCommand.Header, key ?? Guid.NewGuid().ToString());
        return client.SendAsync(request);
    }
}
