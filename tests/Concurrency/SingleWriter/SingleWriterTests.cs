using Monolith.Lab.Invariants;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Lab;
using Monolith.Ledger.Domain;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Concurrency.Strategies;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Ledger;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.SingleWriter;

/// <summary>
/// What only the linearized writer has: batches, a queue, and several writers (or processes) over one database. The
/// shared race scenarios run it too (SingleWriterRaces and its Portfolio and Trading twins).
/// </summary>
public sealed class SingleWriterTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    const string Strategy = nameof(StrategyName.SingleWriter);

    [Fact]
    public async Task A_unit_refused_inside_a_batch_is_undone_alone_while_the_rest_commit()
    {
        await using var services = database.Services(Strategy);
        var account = await services.OpenFundedAsync(100m);
        using var batches = new BatchSizes(services);
        var writer = await HoldWriterAsync(services, account);

        var key = $"twice-{Guid.NewGuid():N}";
        var sends = new List<Task<CashResponse>>
        {
            SendAsync(services, new Deposit(Tester, account, 10m)),
            SendAsync(services, new Deposit(Tester, account, 20m, key)),
            SendAsync(services, new Withdraw(Tester, account, 1_000m)),
            SendAsync(services, new Deposit(Tester, account, 20m, key)),
        };
        // A rule that refuses only after the unit changed its row and added an entry, as a backdated oversell does.
        var changedThenRefused = PostThenRefuseAsync(services, account, 500m);
        sends.Add(SendAsync(services, new Withdraw(Tester, account, 30m)));
        await QueuedAsync(services, sends.Count + 1);
        writer.Release();
        await writer.Done;

        var refusal = await Assert.ThrowsAsync<BusinessRuleException>(() => sends[2]);
        Assert.Equal("Insufficient funds", refusal.Title);
        Assert.Equal("Refused late", (await Assert.ThrowsAsync<BusinessRuleException>(() => changedThenRefused)).Title);
        Assert.Equal([110m, 130m, 100m], new[] { sends[0], sends[1], sends[4] }.Select(s => s.Result.BalanceAfter));
        Assert.Equal(sends[1].Result.OperationId, sends[3].Result.OperationId);
        Assert.Contains(sends.Count + 1, batches.Sizes);

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        Assert.Equal(100m, (await db.Accounts.SingleAsync(a => a.Id == account)).Balance);
        Assert.Equal(4, await db.Entries.CountAsync(e => e.AccountId == account));
        Assert.Empty(await LedgerInvariants.CheckAccountsAsync(db, [account]));
    }

    [Fact]
    public async Task Two_independent_stacks_on_one_database_keep_every_money_invariant()
    {
        // Two service providers: two sets of queues, writers and connection pools, as two Host processes would have.
        await using var first = database.Services(Strategy);
        await using var second = database.Services(Strategy);
        var accounts = new[] { await first.OpenFundedAsync(1_000m), await first.OpenFundedAsync(1_000m) };
        using var firstBatches = new BatchSizes(first);
        using var secondBatches = new BatchSizes(second);

        var acknowledged = new ConcurrentDictionary<Guid, bool>();
        var deposited = 0m;
        var refused = 0;
        await Task.WhenAll(new[] { first, second }.SelectMany((stack, s) => Enumerable.Range(0, 16).Select(async w =>
        {
            await Task.Yield();
            var random = new Random(s * 100 + w);
            await using var scope = stack.CreateAsyncScope();
            var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
            for (var i = 0; i < 40; i++)
            {
                var from = accounts[random.Next(2)];
                var amount = random.Next(1, 5_000) / 100m;
                try
                {
                    if (i % 4 == 0)
                    {
                        acknowledged.TryAdd((await mediator.Send(new Deposit(Tester, from, amount))).OperationId, true);
                        lock (acknowledged) deposited += amount;
                    }
                    else acknowledged.TryAdd((await mediator.Send(new Transfer(Tester, from, accounts.Single(a => a != from), amount))).Id, true);
                }
                catch (BusinessRuleException) { Interlocked.Increment(ref refused); }
            }
        })));

        await using var scope = first.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var violations = await LedgerInvariants.CheckAccountsAsync(db, accounts);
        var total = await db.Accounts.Where(a => accounts.Contains(a.Id)).SumAsync(a => a.Balance);
        if (total != 2_000m + deposited) violations.Add($"balances sum to {total}, but 2000 + {deposited} was deposited");
        var stored = await db.Entries.Where(e => accounts.Contains(e.AccountId)).Select(e => e.OperationId).Distinct().CountAsync();
        if (stored != acknowledged.Count + 2) violations.Add($"{stored} operations stored, {acknowledged.Count} acknowledged besides the 2 opening deposits");
        output.WriteLine($"{acknowledged.Count} acknowledged, {refused} refused; batches of more than one: first stack {firstBatches.Sizes.Count(b => b > 1)}, " +
                         $"second {secondBatches.Sizes.Count(b => b > 1)}; largest {firstBatches.Sizes.Concat(secondBatches.Sizes).DefaultIfEmpty().Max()}");
        foreach (var violation in violations.Take(20)) output.WriteLine(violation);

        Assert.Empty(violations);
        Assert.Contains(firstBatches.Sizes, size => size > 1);
        Assert.Contains(secondBatches.Sizes, size => size > 1);
    }

    [Fact]
    public async Task A_connection_killed_mid_batch_leaves_nothing_half_written_and_every_acknowledged_unit_once()
    {
        await using var services = database.Services(Strategy);
        var account = await services.OpenFundedAsync(100m);
        using var batches = new BatchSizes(services);
        var writer = await HoldWriterAsync(services, account);

        var killed = 0;
        var sends = Enumerable.Range(1, 5).Select(i => SendAsync(services, new Deposit(Tester, account, i))).ToList();
        var killer = KillOwnConnectionOnceAsync(services, account, () => Interlocked.Increment(ref killed));
        sends.AddRange(Enumerable.Range(6, 5).Select(i => SendAsync(services, new Deposit(Tester, account, i))));
        await QueuedAsync(services, 11);
        writer.Release();
        await writer.Done;
        await killer;
        var answers = await Task.WhenAll(sends);

        Assert.Equal(1, killed);
        Assert.Contains(batches.Failed, size => size == 11);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var operations = await db.Entries.Where(e => e.AccountId == account).Select(e => e.OperationId).ToListAsync();
        Assert.All(answers, a => Assert.Single(operations, o => o == a.OperationId));
        // 100 opening, 1..10 once each (55), and the killer's own 1000 once.
        Assert.Equal(100m + 55m + 1_000m, (await db.Accounts.SingleAsync(a => a.Id == account)).Balance);
        Assert.Equal(1 + 10 + 1, operations.Count);
        Assert.Empty(await LedgerInvariants.CheckAccountsAsync(db, [account]));
    }

    [Fact]
    public async Task A_full_queue_refuses_with_503_semantics_and_writes_nothing()
    {
        await using var services = database.Services(Strategy, settings: new Dictionary<string, string?>
        {
            ["Concurrency:SingleWriter:Partitions"] = "1",
            ["Concurrency:SingleWriter:QueueCapacity"] = "2",
        });
        var account = await services.OpenFundedAsync(100m);
        var writer = await HoldWriterAsync(services, account);

        var queued = new[] { SendAsync(services, new Deposit(Tester, account, 1m)), SendAsync(services, new Deposit(Tester, account, 2m)) };
        await QueuedAsync(services, 2);
        await Assert.ThrowsAsync<WriteQueueFullException>(() => SendAsync(services, new Deposit(Tester, account, 4m)));
        writer.Release();
        await writer.Done;
        await Task.WhenAll(queued);

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        Assert.Equal(103m, (await db.Accounts.SingleAsync(a => a.Id == account)).Balance);
        Assert.Equal(3, await db.Entries.CountAsync(e => e.AccountId == account));
    }

    [Fact]
    public async Task Over_HTTP_a_full_queue_answers_503_with_Retry_After_and_problem_details()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:Monolith", database.ConnectionString)
            .UseSetting("Concurrency:Strategy", Strategy)
            .UseSetting("Concurrency:SingleWriter:Partitions", "1")
            .UseSetting("Concurrency:SingleWriter:QueueCapacity", "1"));
        using var client = factory.CreateClient().As(Tester);
        var account = await factory.Services.OpenFundedAsync(100m);
        var writer = await HoldWriterAsync(factory.Services, account);

        var first = client.PostJsonAsync($"/api/ledger/accounts/{account}/deposits", new { amount = 1m });
        await QueuedAsync(factory.Services, 1);
        var refused = await client.PostJsonAsync($"/api/ledger/accounts/{account}/deposits", new { amount = 2m });
        writer.Release();
        await writer.Done;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After");
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Created, (await first).StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Equal(101m, (await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Accounts.SingleAsync(a => a.Id == account)).Balance);
    }

    [Fact]
    public async Task Over_HTTP_32_clients_on_one_portfolio_token_get_no_409_and_the_position_recomputes_exactly()
    {
        // What a user tried under the other strategies: 800 requests from 32 clients on one token, backdated at random.
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host
            .UseSetting("ConnectionStrings:Monolith", database.ConnectionString)
            .UseSetting("Concurrency:Strategy", Strategy));
        using var setup = factory.CreateClient().As(Tester);
        Assert.Equal(HttpStatusCode.OK, (await setup.PutAsJsonAsync("/api/portfolio/tokens/ETH", new { quoteCurrency = "USD" })).StatusCode);
        var opened = await setup.PostJsonAsync("/api/portfolio/portfolios", new { owner = "many-clients" });
        var portfolio = (await opened.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetGuid();

        var statuses = new ConcurrentBag<HttpStatusCode>();
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async c =>
        {
            using var client = factory.CreateClient().As(Tester);
            var random = new Random(c);
            for (var i = 0; i < 25; i++)
            {
                var trade = RandomTrade.Next(random);
                var body = new
                {
                    symbol = "ETH", side = trade.Side.ToString().ToLowerInvariant(), quantity = trade.Quantity, unitPrice = trade.UnitPrice,
                    localUnitPrice = trade.LocalUnitPrice, executedAt = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(600)),
                };
                statuses.Add((await client.PostJsonAsync($"/api/portfolio/portfolios/{portfolio}/transactions", body)).StatusCode);
            }
        }));

        var counts = statuses.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine(string.Join(", ", counts.Select(c => $"{(int)c.Key}: {c.Value}")));
        Assert.Equal(800, statuses.Count);
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Created, HttpStatusCode.UnprocessableEntity }));
        Assert.True(counts.GetValueOrDefault(HttpStatusCode.Created) > 400, $"only {counts.GetValueOrDefault(HttpStatusCode.Created)} of 800 created");
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Empty(await PortfolioInvariants.CheckPositionAsync(
            scope.ServiceProvider.GetRequiredService<Monolith.Portfolio.Persistence.PortfolioDbContext>(), Monolith.Portfolio.Domain.Position.IdFor(portfolio, "ETH")));
    }

    [Fact]
    public async Task A_caller_that_gives_up_before_its_unit_runs_is_skipped()
    {
        await using var services = database.Services(Strategy);
        var account = await services.OpenFundedAsync(100m);
        var writer = await HoldWriterAsync(services, account);

        using var giveUp = new CancellationTokenSource();
        var abandoned = SendAsync(services, new Deposit(Tester, account, 7m), giveUp.Token);
        var kept = SendAsync(services, new Deposit(Tester, account, 5m));
        await QueuedAsync(services, 2);
        await giveUp.CancelAsync();
        writer.Release();
        await writer.Done;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.Equal(105m, (await kept).BalanceAfter);
        await using var scope = services.CreateAsyncScope();
        Assert.Equal(2, await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Entries.CountAsync(e => e.AccountId == account));
    }

    [Fact]
    public async Task A_caller_that_gives_up_after_the_writer_took_its_unit_gets_the_units_outcome()
    {
        await using var services = database.Services(Strategy);
        var account = await services.OpenFundedAsync(100m);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var giveUp = new CancellationTokenSource();

        await using var scope = services.CreateAsyncScope();
        var written = scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>().ExecuteAsync(WriteKeys.Of<Account>(account), async (session, ct) =>
        {
            running.TrySetResult();
            await release.Task;
            var row = (await session.LoadForWriteAsync<Account>([account], ct)).Single();
            var entry = row.Post(7m, Guid.CreateVersion7(), OperationKind.Deposit);
            session.Db.Entries.Add(entry);
            return entry.OperationId;
        }, giveUp.Token);
        await running.Task;
        // The writer runs the unit: from here its commit is the caller's answer, whether or not the caller still waits.
        await giveUp.CancelAsync();
        release.TrySetResult();

        var operation = await written;
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        Assert.Equal(107m, (await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == account)).Balance);
        Assert.Equal(1, await db.Entries.CountAsync(e => e.OperationId == operation));
    }

    [Fact]
    public async Task Inside_one_batch_an_idempotency_key_is_its_callers_own()
    {
        await using var services = database.Services(Strategy);
        var account = await services.OpenFundedAsync(100m);
        using var batches = new BatchSizes(services);
        var writer = await HoldWriterAsync(services, account);

        // Two operators send equal deposits under one key; the first replays its own. All three land in one batch.
        var (first, second) = (Caller.Operator("ops-first"), Caller.Operator("ops-second"));
        var key = $"shared-{Guid.NewGuid():N}";
        var sends = new[] { first, second, first }.Select(caller => SendAsync(services, new Deposit(caller, account, 10m, key))).ToList();
        await QueuedAsync(services, sends.Count);
        writer.Release();
        await writer.Done;
        var answers = await Task.WhenAll(sends);

        Assert.Contains(sends.Count, batches.Sizes);
        Assert.Equal(answers[0].OperationId, answers[2].OperationId);
        Assert.NotEqual(answers[0].OperationId, answers[1].OperationId);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        Assert.Equal(120m, (await db.Accounts.SingleAsync(a => a.Id == account)).Balance);
        Assert.Equal(3, await db.Entries.CountAsync(e => e.AccountId == account));
        Assert.Empty(await LedgerInvariants.CheckAccountsAsync(db, [account]));
    }

    sealed record HeldWriter(Task Done, TaskCompletionSource Released)
    {
        public void Release() => Released.TrySetResult();
    }

    /// <summary>Occupies the writer of <paramref name="account"/>'s partition with a unit that waits, so what is sent next queues up behind it.</summary>
    static async Task<HeldWriter> HoldWriterAsync(IServiceProvider services, Guid account)
    {
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = Task.Run(async () =>
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>().ExecuteAsync(WriteKeys.Of<Account>(account), async (_, _) =>
            {
                running.TrySetResult();
                await release.Task;
                return true;
            }, CancellationToken.None);
        });
        await Task.WhenAny(running.Task, done);
        if (done.IsFaulted) await done;
        return new HeldWriter(done, release);
    }

    /// <summary>Waits until <paramref name="count"/> units wait in the module's queues (a bound for a hung test, not a measurement).</summary>
    static async Task QueuedAsync(IServiceProvider services, int count)
    {
        var queue = services.GetRequiredService<WriteQueue<LedgerDbContext>>();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); queue.Depth < count; await Task.Delay(2))
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{queue.Depth} of {count} units queued after 30 s");
    }

    static async Task<CashResponse> SendAsync(IServiceProvider services, ICashCommand command, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(command, ct);
    }

    static async Task PostThenRefuseAsync(IServiceProvider services, Guid account, decimal amount)
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>().ExecuteAsync(WriteKeys.Of<Account>(account), async (session, ct) =>
        {
            var row = (await session.LoadForWriteAsync<Account>([account], ct)).Single();
            session.Db.Entries.Add(row.Post(amount, Guid.CreateVersion7(), OperationKind.Deposit));
            throw new BusinessRuleException("Refused late", "A rule checked after the change refused it.");
#pragma warning disable CS0162 // the unit's result type
            return true;
#pragma warning restore CS0162
        }, CancellationToken.None);
    }

    /// <summary>A deposit of 1000 whose first run kills its own database connection from outside, mid-batch.</summary>
    static async Task KillOwnConnectionOnceAsync(IServiceProvider services, Guid account, Func<int> killed)
    {
        await using var scope = services.CreateAsyncScope();
        var strategy = scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>();
        await using var probeScope = services.CreateAsyncScope();
        var probe = probeScope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var first = true;
        await strategy.ExecuteAsync(WriteKeys.Of<Account>(account), async (session, ct) =>
        {
            var row = (await session.LoadForWriteAsync<Account>([account], ct)).Single();
            if (first)
            {
                first = false;
                await Sessions.KillAsync(probe, await Sessions.IdAsync(session.Db, ct), ct);
                killed();
            }
            session.Db.Entries.Add(row.Post(1_000m, Guid.CreateVersion7(), OperationKind.Deposit));
            return true;
        }, CancellationToken.None);
    }

    /// <summary>The sizes of the batches one service provider's writers committed, and of those that failed and were re-run unit by unit.</summary>
    sealed class BatchSizes : IDisposable
    {
        readonly IDisposable _listener;
        readonly ConcurrentQueue<int> _sizes = new();
        readonly ConcurrentQueue<int> _failed = new();

        public BatchSizes(IServiceProvider services) =>
            _listener = services.GetRequiredService<ConcurrencyMetrics>().Listen((instrument, value, _) =>
            {
                if (instrument == ConcurrencyMetrics.Instruments.BatchSize) _sizes.Enqueue((int)value);
                else if (instrument == ConcurrencyMetrics.Instruments.BatchFailed) _failed.Enqueue((int)value);
            });

        public IReadOnlyCollection<int> Sizes => _sizes;
        public IReadOnlyCollection<int> Failed => _failed;

        public void Dispose() => _listener.Dispose();
    }
}
