using Monolith.Lab.Invariants;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>The real Host, its middleware and problem details, under concurrent HTTP clients.</summary>
public sealed class HostOverHttpTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    const int Clients = 16;
    const int TransfersPerClient = 40;

    [Fact]
    public async Task Concurrent_clients_keep_the_money_invariants_and_never_get_a_500()
    {
        await using var factory = HostOnTestDatabase();
        var setup = factory.CreateClient().As(Tester);
        var a = await OpenFundedAsync(setup, 1_000m);
        var b = await OpenFundedAsync(setup, 1_000m);

        var statuses = new ConcurrentBag<HttpStatusCode>();
        var acknowledged = new ConcurrentDictionary<Guid, int>();
        var replayMismatches = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async c =>
        {
            using var client = factory.CreateClient().As(Tester);
            var random = new Random(c);
            for (var i = 0; i < TransfersPerClient; i++)
            {
                var (from, to) = random.Next(2) == 0 ? (a, b) : (b, a);
                var body = new { fromAccountId = from, toAccountId = to, amount = random.Next(1, 30_000) / 100m };
                var key = i % 5 == 0 ? $"http-{c}-{i}" : null;
                var response = await client.PostJsonAsync("/api/ledger/transfers", body, key);
                statuses.Add(response.StatusCode);
                if (response.StatusCode != HttpStatusCode.Created) continue;
                var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
                acknowledged.TryAdd(id, 2);
                if (key is null) continue;
                var replay = await client.PostJsonAsync("/api/ledger/transfers", body, key);
                statuses.Add(replay.StatusCode);
                var replayedId = (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
                if (replayedId != id) replayMismatches.Add($"key {key}: {replayedId} != {id}");
            }
        }));

        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Created, HttpStatusCode.UnprocessableEntity, HttpStatusCode.Conflict }));
        Assert.Contains(HttpStatusCode.Created, statuses);
        Assert.Empty(replayMismatches);

        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        Assert.Empty(await LedgerInvariants.CheckAccountsAsync(db, [a, b]));
        var transfers = await db.Transfers.Where(t => t.FromAccountId == a || t.FromAccountId == b).Select(t => t.Id).ToListAsync();
        Assert.Equal(acknowledged.Keys.Order(), transfers.Order());
        Assert.Equal(2_000m, await db.Accounts.Where(x => x.Id == a || x.Id == b).SumAsync(x => x.Balance));
    }

    [Fact]
    public async Task Invalid_input_gets_a_problem_with_field_errors_and_changes_nothing()
    {
        await using var factory = HostOnTestDatabase();
        var client = factory.CreateClient().As(Tester);
        var a = await OpenFundedAsync(client, 10m);
        var b = await OpenFundedAsync(client, 0m);

        var tooPrecise = await client.PostJsonAsync("/api/ledger/transfers", new { fromAccountId = a, toAccountId = b, amount = 1.123456789m }, null);
        Assert.Equal(HttpStatusCode.BadRequest, tooPrecise.StatusCode);
        Assert.Equal("application/problem+json", tooPrecise.Content.Headers.ContentType?.MediaType);
        var problem = await tooPrecise.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("amount", out _));

        var sameAccount = await client.PostJsonAsync("/api/ledger/transfers", new { fromAccountId = a, toAccountId = a, amount = 1m }, null);
        Assert.Equal(HttpStatusCode.BadRequest, sameAccount.StatusCode);
        var overdraw = await client.PostJsonAsync($"/api/ledger/accounts/{a}/withdrawals", new { amount = 11m }, null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, overdraw.StatusCode);
        var unknown = await client.PostJsonAsync($"/api/ledger/accounts/{Guid.NewGuid()}/deposits", new { amount = 1m }, null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var account = await client.GetFromJsonAsync<JsonElement>($"/api/ledger/accounts/{a}");
        Assert.Equal(10m, account.GetProperty("balance").GetDecimal());
        Assert.Equal(1, account.GetProperty("version").GetInt64());
    }

    WebApplicationFactory<Program> HostOnTestDatabase() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString));

    static async Task<Guid> OpenFundedAsync(HttpClient client, decimal amount)
    {
        var opened = await client.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" }, null);
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        var id = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        if (amount > 0)
            Assert.Equal(HttpStatusCode.Created, (await client.PostJsonAsync($"/api/ledger/accounts/{id}/deposits", new { amount }, null)).StatusCode);
        return id;
    }
}
