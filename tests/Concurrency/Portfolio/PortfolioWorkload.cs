using Monolith.Lab.Invariants;
using System.Collections.Concurrent;
using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Lab;
using Monolith.Portfolio.Domain;
using Monolith.Portfolio.Features;
using Monolith.Portfolio.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Ledger;

using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Portfolio;

public sealed record PortfolioWorkloadOptions(int Workers = 32, int OperationsPerWorker = 40, int ReplayEvery = 10, int BackdateEvery = 4)
{
    public const string Symbol = "TKN";
    public const decimal InitialBuy = 1_000m;
    public static readonly DateTimeOffset Start = new(2025, 1, 2, 0, 0, 0, TimeSpan.Zero);
}

public sealed record PortfolioWorkloadResult(
    int Operations, int Backdated, int Committed, int Oversold, int GaveUp, int Replays, long Attempts, long Conflicts,
    int TransactionsChecked, IReadOnlyList<string> Violations, bool StoppedEarly)
{
    public override string ToString() =>
        $"{Operations} ops ({Backdated} backdated): {Committed} committed, {Oversold} refused as oversell, {GaveUp} gave up (409), {Replays} idempotent replays; " +
        $"{Attempts} attempts, {Conflicts} conflicts re-run; {TransactionsChecked} transactions recomputed; {Violations.Count} violations" +
        (StoppedEarly ? $" (stopped at the cap of {Fixtures.Violations.Cap})" : "");
}

/// <summary>
/// Workers, each with its own scope and connection, record random buys and sells of one token of one portfolio
/// through MediatR: most at the next minute of a shared clock, one in four backdated up to half an hour into the
/// recorded history (some exactly on an existing instant), one in ten replayed with its idempotency key. Afterwards
/// the position is recomputed from scratch and compared with what is stored and what the clients were told.
/// </summary>
internal sealed class PortfolioWorkload(IServiceProvider services)
{
    readonly ConcurrentDictionary<long, bool> _acknowledged = new();
    readonly Violations _violations = new();
    long _minutes;

    public async Task<PortfolioWorkloadResult> RunAsync(PortfolioWorkloadOptions options, int seed)
    {
        var portfolio = await SetUpAsync();
        using var meters = new ConcurrencyCounters(services.GetRequiredService<ConcurrencyMetrics>());
        var outcomes = await Task.WhenAll(Enumerable.Range(0, options.Workers)
            .Select(w => WorkAsync(w, options, portfolio, new Random(seed * 1000 + w))));

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortfolioDbContext>();
        var positionId = Position.IdFor(portfolio, PortfolioWorkloadOptions.Symbol);
        var stoppedEarly = _violations.Enough;
        var final = await PortfolioInvariants.CheckPositionAsync(db, positionId);
        var stored = await db.Transactions.Where(t => t.PositionId == positionId).Select(t => t.Id).ToListAsync();
        final.AddRange(stored.Except(_acknowledged.Keys).Select(id => $"transaction {id} is stored but no client was told of it"));
        final.AddRange(_acknowledged.Keys.Except(stored).Select(id => $"transaction {id} was acknowledged but is not stored"));
        if (stored.Count != stored.Distinct().Count()) final.Add("a transaction is stored twice");
        _violations.AddRange(final);

        return new PortfolioWorkloadResult(
            outcomes.Sum(o => o.Operations), outcomes.Sum(o => o.Backdated), outcomes.Sum(o => o.Committed), outcomes.Sum(o => o.Oversold),
            outcomes.Sum(o => o.GaveUp), outcomes.Sum(o => o.Replays), meters.Attempts, meters.Conflicts, stored.Count, _violations.Kept, stoppedEarly);
    }

    async Task<Guid> SetUpAsync()
    {
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        await mediator.Send(new RegisterToken(Tester, PortfolioWorkloadOptions.Symbol, "USD"));
        var portfolio = (await mediator.Send(new OpenPortfolio(Tester))).Id;
        var first = await mediator.Send(new RecordTransaction(Tester, portfolio, PortfolioWorkloadOptions.Symbol, TradeSide.Buy,
            PortfolioWorkloadOptions.InitialBuy, 100m, 90m, PortfolioWorkloadOptions.Start));
        _acknowledged[first.TransactionId] = true;
        return portfolio;
    }

    sealed record WorkerOutcome(int Operations, int Backdated, int Committed, int Oversold, int GaveUp, int Replays);

    async Task<WorkerOutcome> WorkAsync(int worker, PortfolioWorkloadOptions options, Guid portfolio, Random random)
    {
        var run = portfolio.ToString("N")[^8..];
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        int backdated = 0, committed = 0, oversold = 0, gaveUp = 0, replays = 0;
        var i = 0;
        for (; i < options.OperationsPerWorker && !_violations.Enough; i++)
        {
            var trade = RandomTrade.Next(random);
            var isBackdated = random.Next(options.BackdateEvery) == 0;
            var executedAt = isBackdated ? Backdated(random) : NextMinute();
            if (isBackdated) backdated++;
            var key = i % options.ReplayEvery == worker % options.ReplayEvery ? $"{run}-w{worker}-op{i}" : null;
            var command = new RecordTransaction(Tester, portfolio, PortfolioWorkloadOptions.Symbol, trade.Side, trade.Quantity, trade.UnitPrice,
                trade.LocalUnitPrice, executedAt, key);
            try
            {
                var recorded = await mediator.Send(command);
                committed++;
                if (!_acknowledged.TryAdd(recorded.TransactionId, true)) _violations.Add($"transaction {recorded.TransactionId} acknowledged twice");
                if (key is null) continue;
                replays++;
                if (await Replays.ViolationAsync(key, recorded.TransactionId, () => mediator.Send(command), r => r.TransactionId) is { } wrong)
                    _violations.Add(wrong);
            }
            catch (BusinessRuleException e) when (e.Title == "Oversell") { oversold++; }
            catch (ContentionException) { gaveUp++; }
            catch (Exception e) { _violations.Add($"worker {worker}: unexpected {e.GetType().Name}: {e.Message}"); }
        }
        return new WorkerOutcome(i, backdated, committed, oversold, gaveUp, replays);
    }

    DateTimeOffset NextMinute() => PortfolioWorkloadOptions.Start.AddMinutes(Interlocked.Increment(ref _minutes));

    /// <summary>Up to half an hour before the latest minute handed out; a whole minute now and then, to tie with a recorded instant.</summary>
    DateTimeOffset Backdated(Random random)
    {
        var minutes = Math.Max(0, Interlocked.Read(ref _minutes) - random.Next(1, 30));
        var seconds = random.Next(4) == 0 ? 0 : random.Next(1, 60);
        return PortfolioWorkloadOptions.Start.AddMinutes(minutes).AddSeconds(seconds);
    }
}
