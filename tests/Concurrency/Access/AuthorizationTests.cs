using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Monolith.Host;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Access;

/// <summary>
/// Who may move whose money, through the real Host: no route without a valid token and subject; another owner's
/// resources answer 404 and stay as they were, and so do an operator's spends from them; operator-only routes answer
/// 403 to owners; a caller's idempotency keys are its own; each caller's rate is limited apart.
/// </summary>
public sealed class AuthorizationTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    static readonly Caller Alice = Caller.Owner("alice"), Mallory = Caller.Owner("mallory"), Operator = Caller.Operator("ops");

    WebApplicationFactory<Program> Host() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));

    [Fact]
    public async Task Every_api_route_refuses_a_request_without_a_valid_token_with_401()
    {
        await using var factory = Host();
        var anonymous = factory.CreateClient();
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var options = AccessTokenOptions.From(factory.Services.GetRequiredService<IConfiguration>());
        var wrongKey = AccessTokens.Mint(new AccessTokenOptions { Issuer = options.Issuer, Audience = options.Audience, SigningKey = new string('x', 40) }, "alice");
        var expired = AccessTokens.Mint(options, "alice", lifetime: TimeSpan.FromMinutes(-5));
        var otherIssuer = AccessTokens.Mint(new AccessTokenOptions { Issuer = "someone-else", Audience = options.Audience, SigningKey = options.SigningKey }, "alice");
        var otherAudience = AccessTokens.Mint(new AccessTokenOptions { Issuer = options.Issuer, Audience = "another-api", SigningKey = options.SigningKey }, "alice");

        var routes = 0;
        var admitted = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject())
        {
            routes++;
            Assert.True(operation.Value.TryGetProperty("security", out _), $"{operation.Name} {path.Name} declares no security requirement");
            var url = path.Name.Replace("{id}", Guid.NewGuid().ToString()).Replace("{symbol}", "ABC");
            foreach (var token in new[] { null, "not-a-jwt", wrongKey, expired, otherIssuer, otherAudience })
            {
                using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url) { Content = JsonContent.Create(new { }) };
                if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                var response = await anonymous.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.Unauthorized) admitted.Add($"{operation.Name} {path.Name} with {token ?? "no token"}: {(int)response.StatusCode}");
            }
        }
        Assert.True(routes >= 27, $"only {routes} operations in the document");
        Assert.Empty(admitted);
    }

    [Fact]
    public void Outside_development_the_Host_refuses_to_start_without_a_way_to_check_tokens()
    {
        // Production reads no appsettings.Development.json, so no signing key: start-up stops and says what to set.
        using var production = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("environment", "Production")
            .UseSetting("ConnectionStrings:Monolith", database.ConnectionString));
        static IEnumerable<string> Messages(Exception? e) { for (; e is not null; e = e.InnerException) yield return e.Message; }
        Assert.Contains(Messages(Assert.ThrowsAny<Exception>(() => production.CreateClient())), m => m.Contains("Set Authentication:Authority"));

        // A key of fewer than 32 bytes is no key; 32 bytes is one, and so is an OpenID Connect issuer. Issuer and audience are always needed.
        static AccessTokenOptions Options(string? key = null, string? authority = null, string issuer = "monolith") =>
            new() { Issuer = issuer, Audience = "monolith-api", SigningKey = key, Authority = authority };
        Assert.NotNull(Options(new string('k', 31)).Problem());
        Assert.Null(Options(new string('k', 32)).Problem());
        Assert.Null(Options(authority: "https://id.example.com/realms/monolith").Problem());
        Assert.NotNull(Options(new string('k', 32), issuer: " ").Problem());
    }

    [Fact]
    public async Task Another_owners_reads_and_spends_answer_404_and_change_nothing()
    {
        await using var factory = Host();
        var alice = factory.CreateClient().As(Alice);
        var mallory = factory.CreateClient().As(Mallory);
        var ops = factory.CreateClient().As(Operator);
        var alices = await AlicesResourcesAsync(alice, mallory, ops);

        var before = await StateAsync(alice, alices);
        var answered = new List<string>();
        foreach (var (method, path, body) in alices.Reads.Concat(alices.Spends))
        {
            var response = await SendAsync(mallory, method, path, body);
            if (response.StatusCode != HttpStatusCode.NotFound) answered.Add($"{method} {path}: {(int)response.StatusCode}");
        }
        Assert.Empty(answered);
        Assert.Equal(before, await StateAsync(alice, alices));

        // Paying someone needs only the payer's rights: Alice pays into Mallory's account.
        var paid = await alice.PostJsonAsync("/api/ledger/transfers", new { fromAccountId = alices.Account, toAccountId = alices.Mallorys, amount = 1m });
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        Assert.Equal(1m, (await mallory.GetFromJsonAsync<JsonElement>($"/api/ledger/accounts/{alices.Mallorys}")).GetProperty("balance").GetDecimal());
        // Its Location answers the transfer as the POST did, to the payer and to the payee alike.
        var created = await paid.Content.ReadFromJsonAsync<Monolith.Ledger.Features.TransferResponse>();
        foreach (var side in new[] { alice, mallory })
            Assert.Equal(created, await side.GetFromJsonAsync<Monolith.Ledger.Features.TransferResponse>(paid.Headers.Location));
    }

    [Fact]
    public async Task An_operator_reads_every_owners_resources_but_spends_from_none()
    {
        await using var factory = Host();
        var alice = factory.CreateClient().As(Alice);
        var ops = factory.CreateClient().As(Operator);
        var alices = await AlicesResourcesAsync(alice, factory.CreateClient().As(Mallory), ops);
        var before = await StateAsync(alice, alices);

        var refused = new List<string>();
        foreach (var (method, path, body) in alices.Reads)
        {
            var response = await SendAsync(ops, method, path, body);
            if (response.StatusCode != HttpStatusCode.OK) refused.Add($"{method} {path}: {(int)response.StatusCode}");
        }
        Assert.Empty(refused);

        // Reading is not spending: every route that moves Alice's money or tokens, or acts for her, is told the resource does not exist.
        var answered = new List<string>();
        foreach (var (method, path, body) in alices.Spends)
        {
            var response = await SendAsync(ops, method, path, body);
            if (response.StatusCode != HttpStatusCode.NotFound) answered.Add($"{method} {path}: {(int)response.StatusCode}");
        }
        Assert.Empty(answered);
        Assert.Equal(before, await StateAsync(alice, alices));
    }

    /// <summary>Alice's account, portfolio and trading account, with a filled order, its open trade and a pending order; and every route that reads or spends them.</summary>
    sealed record AlicesResources(Guid Account, Guid Mallorys, Guid Portfolio, Guid Trading, Guid Pending,
        (string Method, string Path, object? Body)[] Reads, (string Method, string Path, object? Body)[] Spends);

    static async Task<AlicesResources> AlicesResourcesAsync(HttpClient alice, HttpClient mallory, HttpClient ops)
    {
        var account = await IdAsync(await alice.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }));
        var mallorys = await IdAsync(await mallory.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }));
        Assert.Equal(HttpStatusCode.Created, (await ops.PostJsonAsync($"/api/ledger/accounts/{account}/deposits", new { amount = 100m })).StatusCode);
        var savings = await IdAsync(await alice.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }));
        var transfer = await IdAsync(await alice.PostJsonAsync("/api/ledger/transfers", new { fromAccountId = account, toAccountId = savings, amount = 1m }));
        Assert.Equal(HttpStatusCode.OK, (await ops.PutAsJsonAsync("/api/portfolio/tokens/ACME", new { quoteCurrency = "USD" })).StatusCode);
        var portfolio = await IdAsync(await alice.PostJsonAsync("/api/portfolio/portfolios", new { }));
        Assert.Equal(HttpStatusCode.Created, (await alice.PostJsonAsync($"/api/portfolio/portfolios/{portfolio}/transactions",
            new { symbol = "ACME", side = "buy", quantity = 10m, unitPrice = 2m, localUnitPrice = 2m, executedAt = DateTimeOffset.UtcNow.AddMinutes(-1) })).StatusCode);
        var trading = await IdAsync(await alice.PostJsonAsync("/api/trading/accounts", new { initialBalance = 1_000m, maxDrawdownLimitPct = 50m }));
        var order = await IdAsync(await alice.PostJsonAsync($"/api/trading/accounts/{trading}/orders", new { symbol = "ACME", side = "buy", shares = 1m, limitPrice = 10m, strategyName = "s" }));
        var filled = await alice.PostJsonAsync($"/api/trading/orders/{order}/fill", new { price = 10m });
        var trade = (await filled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tradeId").GetGuid();
        var pending = await IdAsync(await alice.PostJsonAsync($"/api/trading/accounts/{trading}/orders", new { symbol = "ACME", side = "buy", shares = 1m, limitPrice = 10m, strategyName = "s" }));

        return new AlicesResources(account, mallorys, portfolio, trading, pending,
            Reads:
            [
                ("GET", $"/api/ledger/accounts/{account}", null),
                ("GET", $"/api/ledger/accounts/{account}/entries", null),
                ("GET", $"/api/ledger/accounts/{account}/balance?at=2026-01-01T00:00:00Z", null),
                ("GET", $"/api/ledger/transfers/{transfer}", null),
                ("GET", $"/api/portfolio/portfolios/{portfolio}/holdings", null),
                ("GET", $"/api/portfolio/portfolios/{portfolio}/tokens/ACME", null),
                ("GET", $"/api/portfolio/portfolios/{portfolio}/tokens/ACME/history", null),
                ("GET", $"/api/trading/accounts/{trading}", null),
                ("GET", $"/api/trading/accounts/{trading}/trades", null),
                ("GET", $"/api/trading/accounts/{trading}/audit", null),
                ("GET", $"/api/trading/orders/{order}", null),
            ],
            Spends:
            [
                ("POST", $"/api/ledger/accounts/{account}/withdrawals", new { amount = 1m }),
                ("POST", "/api/ledger/transfers", new { fromAccountId = account, toAccountId = mallorys, amount = 1m }),
                ("POST", $"/api/portfolio/portfolios/{portfolio}/transactions", new { symbol = "ACME", side = "sell", quantity = 10m, unitPrice = 2m, localUnitPrice = 2m, executedAt = DateTimeOffset.UtcNow }),
                ("POST", $"/api/trading/accounts/{trading}/orders", new { symbol = "ACME", side = "sell", shares = 1m, limitPrice = 10m, strategyName = "s" }),
                ("POST", $"/api/trading/orders/{pending}/fill", new { price = 10m }),
                ("POST", $"/api/trading/orders/{pending}/cancel", null),
                ("POST", $"/api/trading/trades/{trade}/close", new { exitPrice = 1m }),
                ("POST", $"/api/trading/accounts/{trading}/close", null),
                ("POST", $"/api/trading/accounts/{trading}/decisions", new { symbol = "ACME", action = "hold", reason = "r", strategyName = "s" }),
            ]);
    }

    [Fact]
    public async Task Operator_only_routes_refuse_owners_with_403_and_change_nothing()
    {
        await using var factory = Host();
        var alice = factory.CreateClient().As(Alice);
        var ops = factory.CreateClient().As(Operator);
        var account = await IdAsync(await alice.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }));
        var trading = await IdAsync(await alice.PostJsonAsync("/api/trading/accounts", new { initialBalance = 1_000m, maxDrawdownLimitPct = 50m }));

        var refused = new List<string>();
        foreach (var (method, path, body) in new (string, string, object?)[]
                 {
                     ("POST", $"/api/ledger/accounts/{account}/deposits", new { amount = 5m }),
                     ("PUT", "/api/portfolio/tokens/OWNED", new { quoteCurrency = "USD" }),
                     ("POST", $"/api/trading/accounts/{trading}/suspend", null),
                     ("POST", $"/api/trading/accounts/{trading}/resume", null),
                 })
        {
            var response = await SendAsync(alice, method, path, body);
            if (response.StatusCode != HttpStatusCode.Forbidden) refused.Add($"{method} {path}: {(int)response.StatusCode}");
            else Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Empty(refused);
        Assert.Equal(0m, (await alice.GetFromJsonAsync<JsonElement>($"/api/ledger/accounts/{account}")).GetProperty("balance").GetDecimal());
        Assert.Equal("Active", (await alice.GetFromJsonAsync<JsonElement>($"/api/trading/accounts/{trading}")).GetProperty("status").GetString());
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>("/api/portfolio/tokens?after=OWNE&limit=1")).EnumerateArray().Count(t => t.GetProperty("symbol").GetString() == "OWNED"));

        // The operator may, on anyone's account.
        Assert.Equal(HttpStatusCode.Created, (await ops.PostJsonAsync($"/api/ledger/accounts/{account}/deposits", new { amount = 5m })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(ops, "POST", $"/api/trading/accounts/{trading}/suspend", null)).StatusCode);
        var audit = await alice.GetFromJsonAsync<JsonElement>($"/api/trading/accounts/{trading}/audit");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), a => a.GetProperty("actor").GetString() == Operator.Subject);
    }

    [Fact]
    public async Task An_idempotency_key_belongs_to_its_caller()
    {
        await using var factory = Host();
        var alice = factory.CreateClient().As(Alice);
        var mallory = factory.CreateClient().As(Mallory);
        const string key = "shared-key-1";

        var alices = await alice.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }, key);
        // Another caller's equal key is another key: neither a 422 (which would tell that the key was used) nor Alice's account.
        var mallorys = await mallory.PostJsonAsync("/api/ledger/accounts", new { currency = "USD" }, key);
        var (alicesId, mallorysId) = (await IdAsync(alices), await IdAsync(mallorys));
        Assert.NotEqual(alicesId, mallorysId);
        // Each caller's replay answers with its own.
        Assert.Equal(alicesId, await IdAsync(await alice.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }, key)));
        Assert.Equal("USD", (await (await mallory.PostJsonAsync("/api/ledger/accounts", new { currency = "USD" }, key)).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("currency").GetString());
    }

    [Fact]
    public async Task The_rate_limit_answers_429_with_Retry_After_and_refills_its_rate_not_its_burst()
    {
        const int permitsPerSecond = 1, burst = 8;
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings:Monolith"] = database.ConnectionString,
            ["RateLimiting:PermitsPerSecond"] = permitsPerSecond.ToString(),
            ["RateLimiting:Burst"] = burst.ToString(),
        });
        using var client = new HttpClient { BaseAddress = host.BaseAddress }.As(Alice);
        var (admitted, limited) = await UntilLimitedAsync(client, burst * 3);
        Assert.True(admitted >= burst, $"only {admitted} requests admitted before the first 429, below a burst of {burst}");
        var emptied = Stopwatch.GetTimestamp();
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");

        // Another caller has a bucket of its own; requests without a valid token share their address's, and are limited too.
        using var other = new HttpClient { BaseAddress = host.BaseAddress }.As(Mallory);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/portfolio/tokens")).StatusCode);
        // The address's bucket is not full here: waiting for the Host to start polled /health from it.
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        var (unauthorized, _) = await UntilLimitedAsync(anonymous, burst * 3, HttpStatusCode.Unauthorized);
        Assert.True(unauthorized >= 1, "the first request without a token was limited");

        // The emptied bucket refills one permit a second: after a few seconds a few requests pass, not a whole burst.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var (refilled, _) = await UntilLimitedAsync(client, burst * 3);
        var seconds = Stopwatch.GetElapsedTime(emptied).TotalSeconds;
        // The bucket refills in fractions (every 100 ms, by the time since the last refill), and the 429 that emptied it
        // may have left most of a permit: in t seconds it admits at most ⌈rate × (t + 1)⌉, far from a whole burst.
        var most = (int)Math.Ceiling(permitsPerSecond * (seconds + 1));
        Assert.True(refilled >= 1 && refilled <= most, $"{refilled} requests admitted {seconds:F1} s after the bucket emptied; the refill allows 1 to {most}");
    }

    /// <summary>Sends until the first 429: how many were admitted before it, and the 429.</summary>
    static async Task<(int Admitted, HttpResponseMessage Limited)> UntilLimitedAsync(HttpClient client, int most, HttpStatusCode admittedAs = HttpStatusCode.OK)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < most; i++)
        {
            var response = await client.GetAsync("/api/portfolio/tokens");
            if (response.StatusCode == HttpStatusCode.TooManyRequests) return (i, response);
            Assert.Equal(admittedAs, response.StatusCode);
        }
        throw new Xunit.Sdk.XunitException($"no 429 in {most} requests");
    }

    [Fact]
    public async Task A_token_whose_subject_no_owner_column_could_hold_gets_401_and_writes_nothing()
    {
        await using var factory = Host();
        var client = factory.CreateClient();
        var options = AccessTokenOptions.From(factory.Services.GetRequiredService<IConfiguration>());
        // Signed with the right key, unexpired, for the right issuer and audience: only the subject is wrong.
        string TokenFor(string? subject) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Claims = subject is null ? new Dictionary<string, object> { ["name"] = "nobody" } : new Dictionary<string, object> { [Caller.SubjectClaim] = subject },
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey!)), SecurityAlgorithms.HmacSha256),
        });
        async Task<HttpStatusCode> OpenAccountAsAsync(string? subject)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ledger/accounts") { Content = JsonContent.Create(new { currency = "EUR" }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor(subject));
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            return (await client.SendAsync(request)).StatusCode;
        }

        string?[] refused = [null, "", " ", "al ice", "alice\n", "alice\t", "alice\u007f", "alice\u0085", "\u00e5lice", "alice\u200b", new string('a', Caller.MaxSubjectLength + 1)];
        var admitted = new List<string>();
        foreach (var subject in refused)
            if (await OpenAccountAsAsync(subject) is var status && status != HttpStatusCode.Unauthorized)
                admitted.Add($"{(subject is null ? "no subject" : JsonSerializer.Serialize(subject))}: {(int)status}");
        Assert.Empty(admitted);

        // The longest subject a column holds, and every printable character, is a caller like any other.
        var printable = new string(Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(c => (char)c).ToArray());
        Assert.Equal(HttpStatusCode.Created, await OpenAccountAsAsync(printable + new string('z', Caller.MaxSubjectLength - printable.Length)));
    }

    [Fact]
    public async Task An_oversized_body_gets_413_as_a_problem_and_writes_nothing()
    {
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string> { ["ConnectionStrings:Monolith"] = database.ConnectionString });
        using var client = new HttpClient { BaseAddress = host.BaseAddress }.As(Alice);
        var padding = new string('x', 64 * 1024);
        // Without a limit this is a 400: the currency is no ISO code.
        var body = new StringContent($$"""{"currency":"EUR{{padding}}","overdraftLimit":0}""", Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ledger/accounts") { Content = body };
        request.Headers.Add("Idempotency-Key", "too-large-1");
        var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // The key was never stored: the same key with a body of the right size opens the account.
        var retried = await client.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }, "too-large-1");
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
    }

    static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, object? body) => method switch
    {
        "GET" => client.GetAsync(path),
        "PUT" => client.PutAsJsonAsync(path, body),
        _ => body is null ? client.PostAsync(path, null) : client.PostJsonAsync(path, body),
    };

    /// <summary>What the owner sees of its resources, to compare before and after another caller's attempts.</summary>
    static async Task<string> StateAsync(HttpClient owner, AlicesResources r) => string.Join("\n",
        await owner.GetStringAsync($"/api/ledger/accounts/{r.Account}"),
        await owner.GetStringAsync($"/api/ledger/accounts/{r.Account}/entries"),
        await owner.GetStringAsync($"/api/portfolio/portfolios/{r.Portfolio}/tokens/ACME/history"),
        await owner.GetStringAsync($"/api/trading/accounts/{r.Trading}"),
        await owner.GetStringAsync($"/api/trading/accounts/{r.Trading}/trades"),
        await owner.GetStringAsync($"/api/trading/orders/{r.Pending}"),
        await owner.GetStringAsync($"/api/trading/accounts/{r.Trading}/audit?limit=500"));
}
