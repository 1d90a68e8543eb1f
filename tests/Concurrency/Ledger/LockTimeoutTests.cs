using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>
/// Concurrency:LockTimeout bounds a unit's wait for a row another transaction holds: the wait ends as a conflict the
/// strategy re-runs, and once the attempts run out the client gets 409, not an outage after the command timeout (30 s
/// here). On PostgreSQL the bound is a startup parameter of the connection string, on MariaDB a statement per unit,
/// so this is what shows either is in force. Through the Host, giving up is a 409 with Retry-After, which a client tells
/// apart from an outage's 503.
/// </summary>
public sealed class LockTimeoutTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_row_held_past_the_lock_timeout_ends_in_a_conflict_not_an_outage()
    {
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock), maxAttempts: 2,
            settings: new Dictionary<string, string?> { ["Concurrency:LockTimeout"] = "00:00:01" });
        Guid account;
        await using (var setup = services.CreateAsyncScope())
        {
            var mediator = setup.ServiceProvider.GetRequiredService<IMediator>();
            account = (await mediator.Send(new OpenAccount(Tester, "EUR"))).Id;
            await mediator.Send(new Deposit(Tester, account, 100m));
        }

        await using var holder = services.CreateAsyncScope();
        var held = holder.ServiceProvider.GetRequiredService<LedgerDbContext>();
        await using (var tx = await held.Database.BeginTransactionAsync())
        {
            var table = DatabaseProvider.ModuleTable(LedgerDbContext.StoreName, "accounts");
            await held.Database.ExecuteSqlRawAsync($"SELECT id FROM {table} WHERE id = {{0}} FOR UPDATE", account);

            await using var writer = services.CreateAsyncScope();
            var refused = await Assert.ThrowsAsync<ContentionException>(() =>
                writer.ServiceProvider.GetRequiredService<IMediator>().Send(new Withdraw(Tester, account, 10m)));
            Assert.Equal(2, refused.Attempts);
            Assert.Equal(ConflictKind.LockTimeout, DatabaseProvider.ConflictKindOf(DatabaseProvider.ErrorCode(refused.LastFailure)));
            await tx.RollbackAsync();
        }

        await using var check = services.CreateAsyncScope();
        Assert.Equal(100m, await check.ServiceProvider.GetRequiredService<LedgerDbContext>().Accounts.Where(a => a.Id == account).Select(a => a.Balance).SingleAsync());
    }

    [Fact]
    public async Task Over_HTTP_a_unit_that_gives_up_answers_409_with_Retry_After_and_its_key_stays_unused()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:Monolith", database.ConnectionString)
            .UseSetting("Concurrency:Strategy", nameof(StrategyName.PessimisticRowLock))
            .UseSetting("Concurrency:LockTimeout", "00:00:01")
            .UseSetting("Concurrency:MaxAttempts", "2"));
        var client = factory.CreateClient().As(Tester);
        var opened = await client.PostJsonAsync("/api/ledger/accounts", new { currency = "EUR" });
        var account = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Created, (await client.PostJsonAsync($"/api/ledger/accounts/{account}/deposits", new { amount = 100m })).StatusCode);

        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using var holder = services.CreateAsyncScope();
        var held = holder.ServiceProvider.GetRequiredService<LedgerDbContext>();
        const string key = "gave-up-once";
        await using (var tx = await held.Database.BeginTransactionAsync())
        {
            await held.Database.ExecuteSqlRawAsync($"SELECT id FROM {DatabaseProvider.ModuleTable(LedgerDbContext.StoreName, "accounts")} WHERE id = {{0}} FOR UPDATE", account);
            var refused = await client.PostJsonAsync($"/api/ledger/accounts/{account}/withdrawals", new { amount = 10m }, key);

            // Contention, not an outage: the database answered, the row stayed busy. A client backs off and retries.
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Contention", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
            Assert.Equal(ContentionException.RetryAfter, refused.Headers.RetryAfter?.Delta);
            await tx.RollbackAsync();
        }

        // Nothing was written under the key: the retry is applied, once.
        var retried = await client.PostJsonAsync($"/api/ledger/accounts/{account}/withdrawals", new { amount = 10m }, key);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(90m, (await client.GetFromJsonAsync<JsonElement>($"/api/ledger/accounts/{account}")).GetProperty("balance").GetDecimal());
    }
}
