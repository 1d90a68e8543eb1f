using System.Collections.Concurrent;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Ledger;
using Monolith.Trading.Domain;
using Monolith.Trading.Features;
using Monolith.Trading.Persistence;

using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Trading;

public sealed record TradingWorkloadOptions(int Workers = 32, int OperationsPerWorker = 30, int ReplayEvery = 10)
{
    public const decimal InitialBalance = 1_000_000m;
}

public sealed record TradingWorkloadResult(
    int Operations, int Placed, int Filled, int Rejected, int Closed, int Cancelled, int Refused, int GaveUp, int Unavailable,
    long Attempts, long Conflicts, IReadOnlyList<string> Violations, bool StoppedEarly)
{
    public override string ToString() =>
        $"{Operations} ops: {Placed} placed, {Filled} filled, {Rejected} rejected, {Closed} closed, {Cancelled} cancelled, " +
        $"{Refused} refused (422: not pending, already closed), {GaveUp} gave up (409), {Unavailable} unavailable (503); " +
        $"{Attempts} attempts, {Conflicts} conflicts re-run; {Violations.Count} violations" +
        (StoppedEarly ? $" (stopped at the cap of {Fixtures.Violations.Cap})" : "");
}

/// <summary>
/// Workers, each with its own scope and connection, trade on one account through MediatR: they place orders, fill
/// orders any worker placed (two may race for one), close trades any worker opened (two may race for one) and
/// cancel orders. Afterwards the account is checked against its trades, its orders and its audit log. Given several
/// stacks (one per database node), worker w works through stack w mod n; the account is opened and checked through the first.
/// </summary>
internal sealed class TradingWorkload(params IServiceProvider[] stacks)
{
    readonly IServiceProvider services = stacks[0];
    readonly Violations _violations = new();
    readonly List<Guid> _orders = [];
    readonly List<Guid> _trades = [];
    readonly ConcurrentDictionary<Guid, int> _closes = new();
    readonly Lock _gate = new();

    public Guid AccountId { get; private set; }

    /// <summary>
    /// Operations that started and ended while <see cref="LockServiceDown"/> said so and still wrote; must stay zero.
    /// One that started during the outage but ended after the test cleared the flag is not counted: StackExchange.Redis
    /// holds commands in its backlog while it reconnects, so the restarted server may grant its lock, and its write is
    /// then as protected as any other.
    /// </summary>
    public int WroteWhileLockServiceDown => _wroteWhileDown;
    int _wroteWhileDown;

    /// <summary>Set by a test that stops the lock service; read when each operation starts.</summary>
    public volatile bool LockServiceDown;

    public async Task<TradingWorkloadResult> RunAsync(TradingWorkloadOptions options, int seed, Func<int, Task>? beforeOperation = null)
    {
        await using (var setup = services.CreateAsyncScope())
            AccountId = (await setup.ServiceProvider.GetRequiredService<IMediator>().Send(new OpenTradingAccount(Tester, TradingWorkloadOptions.InitialBalance, 100m))).Id;
        var meters = stacks.Distinct().Select(s => new ConcurrencyCounters(s.GetRequiredService<ConcurrencyMetrics>())).ToList();
        var operations = 0;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, options.Workers).Select(w =>
            WorkAsync(w, options, new Random(seed * 1000 + w), async () => { if (beforeOperation is not null) await beforeOperation(Interlocked.Increment(ref operations)); })));

        foreach (var meter in meters) meter.Dispose();
        var stoppedEarly = _violations.Enough;
        // Workers on other nodes: the first node may not have applied their last commits yet (docs/scale-out.md).
        var final = stacks.Length > 1 ? await NodesAgree.CheckCaughtUpAsync(FinalCheckAsync) : await FinalCheckAsync();
        final.AddRange(_closes.Where(c => c.Value > 1).Select(c => $"trade {c.Key} was closed successfully {c.Value} times"));
        _violations.AddRange(final);

        int Sum(Func<WorkerOutcome, int> f) => outcomes.Sum(f);
        return new TradingWorkloadResult(Sum(o => o.Operations), Sum(o => o.Placed), Sum(o => o.Filled), Sum(o => o.Rejected), Sum(o => o.Closed),
            Sum(o => o.Cancelled), Sum(o => o.Refused), Sum(o => o.GaveUp), Sum(o => o.Unavailable), meters.Sum(m => m.Attempts), meters.Sum(m => m.Conflicts), _violations.Kept, stoppedEarly);
    }

    /// <summary>The account against its trades, orders and audit log, and every acknowledged trade stored.</summary>
    async Task<List<string>> FinalCheckAsync()
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TradingDbContext>();
        var final = await TradingInvariants.CheckAccountAsync(db, AccountId);
        var stored = db.Trades.Where(t => t.AccountId == AccountId).Select(t => t.Id).ToHashSet();
        lock (_gate) final.AddRange(_trades.Where(t => !stored.Contains(t)).Select(t => $"trade {t} was acknowledged but is not stored"));
        return final;
    }

    sealed record WorkerOutcome(int Operations, int Placed, int Filled, int Rejected, int Closed, int Cancelled, int Refused, int GaveUp, int Unavailable);

    async Task<WorkerOutcome> WorkAsync(int worker, TradingWorkloadOptions options, Random random, Func<Task> beforeOperation)
    {
        await using var scope = stacks[worker % stacks.Length].CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        int placed = 0, filled = 0, rejected = 0, closed = 0, cancelled = 0, refused = 0, gaveUp = 0, unavailable = 0;
        var i = 0;
        for (; i < options.OperationsPerWorker && !_violations.Enough; i++)
        {
            await beforeOperation();
            var down = LockServiceDown;
            var roll = random.Next(100);
            var wrote = false;
            try
            {
                if (roll < 35 || Recent(_orders, random) is not { } order)
                {
                    var side = random.Next(2) == 0 ? OrderSide.Buy : OrderSide.Sell;
                    var key = i % options.ReplayEvery == worker % options.ReplayEvery ? $"{AccountId:N}-w{worker}-op{i}" : null;
                    var command = new PlaceOrder(Tester, AccountId, "ACME", side, random.Next(1, 100), random.Next(5_000, 15_000) / 100m, $"worker-{worker}", "race", key);
                    var placedOrder = await mediator.Send(command);
                    placed++;
                    wrote = true;
                    lock (_gate) _orders.Add(placedOrder.Id);
                    if (key is not null && await Replays.ViolationAsync(key, placedOrder.Id, () => mediator.Send(command), o => o.Id) is { } wrong)
                        _violations.Add(wrong);
                }
                else if (roll < 70)
                {
                    var limit = (await mediator.Send(new GetOrder(Tester, order))).LimitPrice;
                    var response = await mediator.Send(new FillOrder(Tester, order, Math.Round(limit * random.Next(90, 101) / 100m, 2)));
                    wrote = true;
                    if (response.Status == OrderStatus.Rejected) { rejected++; continue; }
                    filled++;
                    lock (_gate) _trades.Add(response.TradeId!.Value);
                }
                else if (roll < 95 && Recent(_trades, random) is { } trade)
                {
                    await mediator.Send(new CloseTrade(Tester, trade, random.Next(5_000, 15_000) / 100m));
                    closed++;
                    wrote = true;
                    _closes.AddOrUpdate(trade, 1, (_, n) => n + 1);
                }
                else
                {
                    await mediator.Send(new CancelOrder(Tester, order));
                    cancelled++;
                    wrote = true;
                }
            }
            catch (BusinessRuleException) { refused++; }
            catch (ContentionException) { gaveUp++; }
            // An outage, as the Host answers it (503): Redis gone, or a database or cluster that did not answer in time.
            // The write may have landed; the checks hold either way, since they count only what was acknowledged.
            catch (Exception e) when (e is ServiceUnavailableException || DatabaseProvider.Classify(e) == FailureKind.Unavailable) { unavailable++; }
            catch (Exception e) { _violations.Add($"worker {worker}: unexpected {e.GetType().Name}: {e.InnerException?.Message ?? e.Message}"); }
            finally
            {
                if (wrote && down && LockServiceDown) Interlocked.Increment(ref _wroteWhileDown);
            }
        }
        return new WorkerOutcome(i, placed, filled, rejected, closed, cancelled, refused, gaveUp, unavailable);
    }

    /// <summary>One of the 24 most recent ids, so that workers often race for the same order or trade.</summary>
    Guid? Recent(List<Guid> ids, Random random)
    {
        lock (_gate) return ids.Count == 0 ? null : ids[ids.Count - 1 - random.Next(Math.Min(24, ids.Count))];
    }
}
