using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Lab;
using Monolith.Portfolio.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Portfolio;

/// <summary>
/// The trigger design under the portfolio workload's workers and trades (without backdating, which it cannot take):
/// it must be seen losing updates, next to the strategies that lose none.
/// </summary>
public sealed class TriggerDesignTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task The_after_insert_trigger_design_loses_updates_under_concurrent_inserts()
    {
        var options = new PortfolioWorkloadOptions();
        await using var services = database.Services(nameof(StrategyName.PessimisticRowLock));
        await using (var setup = await OpenAsync(services))
            foreach (var statement in TriggerPeer.Schema) await ExecuteAsync(setup.Connection, statement);

        // The check itself first: one writer at a time, the trigger keeps the chain.
        var alone = await RunAsync(services, workers: 1, options);
        Assert.Equal(0, alone.Lost);
        Assert.Equal(alone.Net, alone.Last);

        var raced = await RunAsync(services, options.Workers, options);
        var figures = $"{raced.Transactions} transactions by {options.Workers} workers: {raced.Lost} snapshots computed from a stale predecessor; " +
                      $"last snapshot {raced.Last}, net quantity {raced.Net}; {raced.Failures} inserts failed (one writer: {alone.Lost} of {alone.Transactions})";
        RaceReport.Write("AFTER INSERT trigger", $"portfolio, {options.Workers} workers, one token", figures);
        output.WriteLine(figures);

        Assert.Equal(options.Workers * options.OperationsPerWorker + 1, raced.Transactions + raced.Failures);
        Assert.True(raced.Lost > 0, "the trigger design lost no update; the race did not overlap any inserts");
        Assert.NotEqual(raced.Net, raced.Last);
    }

    sealed record TriggerRun(int Transactions, int Lost, decimal Last, decimal Net, int Failures);

    /// <summary>The workload's trades by <paramref name="workers"/> writers on a fresh portfolio, then the chain checked.</summary>
    async Task<TriggerRun> RunAsync(IServiceProvider services, int workers, PortfolioWorkloadOptions options)
    {
        var portfolio = Guid.NewGuid().ToString();
        await using (var setup = await OpenAsync(services))
            await TriggerPeer.RecordAsync(setup.Connection, portfolio, PortfolioWorkloadOptions.Symbol,
                new RandomTrade(Monolith.Portfolio.Domain.TradeSide.Buy, PortfolioWorkloadOptions.InitialBuy, 100m, 90m), null);

        var failures = new ConcurrentQueue<string>();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            await using var session = await OpenAsync(services);
            var random = new Random(7000 + worker);
            for (var i = 0; i < options.OperationsPerWorker; i++)
            {
                var trade = RandomTrade.Next(random);
                var key = i % options.ReplayEvery == worker % options.ReplayEvery ? $"{portfolio}-w{worker}-op{i}" : null;
                try { await TriggerPeer.RecordAsync(session.Connection, portfolio, PortfolioWorkloadOptions.Symbol, trade, key); }
                catch (DbException e) { failures.Enqueue(e.Message); }
            }
        }));
        foreach (var failure in failures.Take(5)) output.WriteLine($"insert failed: {failure}");

        await using var check = await OpenAsync(services);
        var chain = await TriggerPeer.ChainAsync(check.Connection, portfolio, PortfolioWorkloadOptions.Symbol);
        var lost = 0;
        var previous = 0m;
        foreach (var (id, signedQuantity, amount) in chain)
        {
            // Sequentially, each snapshot is the one before it plus its own transaction; a concurrent insert that
            // read an older snapshot breaks the chain, and the update it did not see is lost.
            if (amount != previous + signedQuantity && ++lost <= 5)
                output.WriteLine($"transaction {id}: snapshot says {amount}, the one before it {previous} and the transaction {signedQuantity:+0.########;-0.########}");
            previous = amount;
        }
        return new TriggerRun(chain.Count, lost, previous, chain.Sum(c => c.SignedQuantity), failures.Count);
    }

    static async Task<OpenSession> OpenAsync(IServiceProvider services)
    {
        var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortfolioDbContext>();
        await db.Database.OpenConnectionAsync();
        return new OpenSession(scope, db.Database.GetDbConnection());
    }

    static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    sealed record OpenSession(AsyncServiceScope Scope, DbConnection Connection) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Scope.DisposeAsync();
    }
}
