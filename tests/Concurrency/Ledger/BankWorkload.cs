using Monolith.Lab.Invariants;
using System.Collections.Concurrent;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Ledger;

public sealed record BankWorkloadOptions(int Accounts, int Workers = 32, int OperationsPerWorker = 100, int Readers = 2, int ReplayEvery = 10)
{
    public const decimal InitialDeposit = 1_000m;
}

/// <summary>What a run did and what it broke.</summary>
public sealed record BankWorkloadResult(
    int Operations, int Committed, int InsufficientFunds, int GaveUp, int Replays, long Attempts, long Conflicts,
    int ReaderSnapshots, int TornViews, IReadOnlyList<string> Violations, bool StoppedEarly)
{
    public override string ToString() =>
        $"{Operations} ops: {Committed} committed, {InsufficientFunds} refused for funds, {GaveUp} gave up (409), {Replays} idempotent replays; " +
        $"{Attempts} attempts, {Conflicts} conflicts re-run; {ReaderSnapshots} reader snapshots{(TornViews > 0 ? $" ({TornViews} torn by InnoDB)" : "")}; {Violations.Count} violations" +
        (StoppedEarly ? $" (stopped at the cap of {Fixtures.Violations.Cap})" : "");
}

/// <summary>
/// Jepsen-style bank: workers, each with its own scope and so its own connection, send random transfers, deposits
/// and withdrawals through MediatR over a hot set of accounts, replaying some with their idempotency key, while
/// readers check every snapshot. Afterwards the whole ledger is checked against what the clients were told.
/// </summary>
internal sealed class BankWorkload(IServiceProvider services)
{
    readonly ConcurrentDictionary<Guid, int> _acknowledged = new();
    readonly Violations _violations = new();
    decimal _moneyInMinusOut;
    readonly Lock _tally = new();

    public async Task<BankWorkloadResult> RunAsync(BankWorkloadOptions options, int seed)
    {
        var accounts = await OpenAccountsAsync(options);
        using var meters = new ConcurrencyCounters(services.GetRequiredService<ConcurrencyMetrics>());

        using var writersDone = new CancellationTokenSource();
        var readers = Enumerable.Range(0, options.Readers).Select(_ => ReadAsync(accounts, writersDone.Token)).ToList();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, options.Workers).Select(w => WorkAsync(w, options, accounts, new Random(seed * 1000 + w))));
        await writersDone.CancelAsync();
        var views = await Task.WhenAll(readers);

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var stoppedEarly = _violations.Enough;
        _violations.AddRange(await LedgerInvariants.CheckAccountsAsync(db, accounts));
        _violations.AddRange(await LedgerInvariants.CheckOperationsAsync(db, accounts, _acknowledged));
        var total = db.Accounts.Where(a => accounts.Contains(a.Id)).Sum(a => a.Balance);
        if (total != _moneyInMinusOut) _violations.Add($"balances sum to {total} but the clients were told of {_moneyInMinusOut} in minus out");

        return new BankWorkloadResult(
            outcomes.Sum(o => o.Operations), outcomes.Sum(o => o.Committed), outcomes.Sum(o => o.InsufficientFunds), outcomes.Sum(o => o.GaveUp),
            outcomes.Sum(o => o.Replays), meters.Attempts, meters.Conflicts, views.Sum(v => v.Snapshots), views.Sum(v => v.Torn), _violations.Kept, stoppedEarly);
    }

    async Task<Guid[]> OpenAccountsAsync(BankWorkloadOptions options)
    {
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var ids = new Guid[options.Accounts];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = (await mediator.Send(new OpenAccount(Tester, "EUR", OverdraftLimit: i == 0 ? 50m : 0m))).Id;
            Acknowledge((await mediator.Send(new Deposit(Tester, ids[i], BankWorkloadOptions.InitialDeposit))).OperationId, legs: 1, BankWorkloadOptions.InitialDeposit);
        }
        return ids;
    }

    sealed record WorkerOutcome(int Operations, int Committed, int InsufficientFunds, int GaveUp, int Replays);

    async Task<WorkerOutcome> WorkAsync(int worker, BankWorkloadOptions options, Guid[] accounts, Random random)
    {
        var run = accounts[0].ToString("N")[^8..];
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        int committed = 0, insufficient = 0, gaveUp = 0, replays = 0;
        var i = 0;
        for (; i < options.OperationsPerWorker && !_violations.Enough; i++)
        {
            var amount = random.Next(1, 40_000) / 100m;
            var key = i % options.ReplayEvery == worker % options.ReplayEvery ? $"{run}-w{worker}-op{i}" : null;
            var a = accounts[random.Next(accounts.Length)];
            var b = accounts[(Array.IndexOf(accounts, a) + 1 + random.Next(accounts.Length - 1)) % accounts.Length];
            var (send, legs, moneyInMinusOut) = random.Next(4) switch
            {
                0 => ((Func<Task<Guid>>)(async () => (await mediator.Send(new Deposit(Tester, a, amount, key))).OperationId), 1, amount),
                1 => (async () => (await mediator.Send(new Withdraw(Tester, a, amount, key))).OperationId, 1, -amount),
                _ => (async () => (await mediator.Send(new Transfer(Tester, a, b, amount, key))).Id, 2, 0m),
            };
            try
            {
                var operation = await send();
                committed++;
                Acknowledge(operation, legs, moneyInMinusOut);
                if (key is not null)
                {
                    replays++;
                    if (await Replays.ViolationAsync(key, operation, send, id => id) is { } wrong) _violations.Add(wrong);
                }
            }
            catch (BusinessRuleException) { insufficient++; }
            catch (ContentionException) { gaveUp++; }
            catch (Exception e) { _violations.Add($"worker {worker}: unexpected {e.GetType().Name}: {e.Message}"); }
        }
        return new WorkerOutcome(i, committed, insufficient, gaveUp, replays);
    }

    void Acknowledge(Guid operation, int legs, decimal moneyInMinusOut)
    {
        if (!_acknowledged.TryAdd(operation, legs)) _violations.Add($"operation {operation} acknowledged twice");
        lock (_tally) _moneyInMinusOut += moneyInMinusOut;
    }

    async Task<(int Snapshots, int Torn)> ReadAsync(Guid[] accounts, CancellationToken writersDone)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var (snapshots, torn) = (0, 0);
        while (!writersDone.IsCancellationRequested && !_violations.Enough)
        {
            var view = await LedgerInvariants.CheckSnapshotAsync(db, accounts, whileWriting: true);
            foreach (var violation in view.Violations) _violations.Add($"reader snapshot {snapshots}: {violation}");
            if (view.Torn) torn++;
            snapshots++;
        }
        return (snapshots, torn);
    }
}
