using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Domain;
using Monolith.Ledger.Features;
using Features = Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>
/// The Ledger race scenarios, written once and run for every strategy (one class each, one database each) and for
/// the unsafe baseline, which must be caught: where a strategy must end with no violation, the baseline must end
/// with at least one.
/// </summary>
public abstract class LedgerRaceScenarios : IClassFixture<TestDatabase>, IAsyncLifetime
{
    readonly TestDatabase _database;
    readonly ITestOutputHelper _output;

    protected LedgerRaceScenarios(TestDatabase database, ITestOutputHelper output)
    {
        _database = database;
        _output = output;
        Services = database.Services(Strategy);
    }

    protected abstract string Strategy { get; }
    protected virtual bool IsUnsafeBaseline => false;

    /// <summary>Strategies that queue for their rows instead of giving up: every unit no rule refused commits, no 409.</summary>
    protected virtual bool NeverGivesUp => false;
    protected ServiceProvider Services { get; }

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await Services.DisposeAsync();

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public async Task Bank_workload_over_a_hot_set_keeps_every_money_invariant(int hotAccounts)
    {
        var options = new BankWorkloadOptions(hotAccounts);
        var result = await new BankWorkload(Services).RunAsync(options, seed: hotAccounts);
        RaceReport.Write(Strategy, $"bank, {options.Workers} workers, {hotAccounts} hot accounts", result.ToString());
        _output.WriteLine(result.ToString());
        foreach (var violation in result.Violations.Take(20)) _output.WriteLine(violation);

        Assert.Equal(options.Workers * options.OperationsPerWorker, result.Operations);
        Assert.True(result.ReaderSnapshots > 0, "the readers took no snapshot");
        if (IsUnsafeBaseline)
        {
            Assert.Contains(result.Violations, v => !v.Contains("unexpected"));
        }
        else
        {
            Assert.Empty(result.Violations);
            Assert.True(result.Committed > result.Operations / 4, $"only {result.Committed} of {result.Operations} committed");
            if (NeverGivesUp) Assert.Equal(0, result.GaveUp);
        }
    }

    [Fact]
    public async Task An_overdraft_is_refused_by_the_rule_not_by_the_database()
    {
        // The CHECK constraint would refuse it too, as 422 "Constraint violated" with the database's text: the rule must come first.
        var account = await OpenFundedAsync(10m);
        await using (var scope = Services.CreateAsyncScope())
        {
            var refusal = await Assert.ThrowsAsync<BusinessRuleException>(() => scope.ServiceProvider.GetRequiredService<IMediator>().Send(new Withdraw(account, 10.01m)));
            Assert.Equal("Insufficient funds", refusal.Title);
            Assert.Contains("overdraft limit", refusal.Message);
        }
        Assert.Equal(10m, await BalanceAsync(account));
    }

    [Fact]
    public async Task Lost_update_P4_two_deposits_both_count()
    {
        var account = await OpenFundedAsync(100m);
        var (first, second) = await TwoSessionsAsync(
            (session, pause, ct) => DepositAsync(session, account, 10m, pause, ct),
            (session, pause, ct) => DepositAsync(session, account, 20m, pause, ct));
        Assert.Null(first);
        Assert.Null(second);

        var violations = await CheckAsync(account);
        var balance = await BalanceAsync(account);
        if (balance != 130m) violations.Add($"lost update: balance {balance}, expected 130");
        AssertOutcome(violations);
    }

    [Fact]
    public async Task Write_skew_G2_item_a_joint_limit_over_two_accounts_holds()
    {
        // Each may go to -100 alone, but together they must stay at or above zero: a rule over two rows, each
        // unit writing only one of them.
        var a = await OpenFundedAsync(60m, overdraftLimit: 100m);
        var b = await OpenFundedAsync(60m, overdraftLimit: 100m);
        var (first, second) = await TwoSessionsAsync(
            (session, pause, ct) => WithdrawWithinJointLimitAsync(session, a, b, debit: a, pause, ct),
            (session, pause, ct) => WithdrawWithinJointLimitAsync(session, a, b, debit: b, pause, ct));

        var violations = await CheckAsync(a, b);
        var joint = await BalanceAsync(a) + await BalanceAsync(b);
        if (joint < 0) violations.Add($"write skew: joint balance {joint} is below zero");
        if (!IsUnsafeBaseline)
            Assert.Single(new[] { first, second }, e => e is BusinessRuleException);
        AssertOutcome(violations);
    }

    [Fact]
    public async Task Phantom_insert_into_an_accounts_range_is_seen()
    {
        // The rule reads a range of entries, not a row: at most two entries per account in this scenario.
        var account = await OpenFundedAsync(100m);
        var (first, second) = await TwoSessionsAsync(
            (session, pause, ct) => DepositIfRangeHasRoomAsync(session, account, pause, ct),
            (session, pause, ct) => DepositIfRangeHasRoomAsync(session, account, pause, ct));

        var violations = await CheckAsync(account);
        await using (var scope = Services.CreateAsyncScope())
        {
            var entries = await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Entries.CountAsync(e => e.AccountId == account);
            if (entries != 2) violations.Add($"phantom: the account has {entries} entries, the rule allows 2");
        }
        if (!IsUnsafeBaseline)
            Assert.Single(new[] { first, second }, e => e is BusinessRuleException);
        AssertOutcome(violations);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_make_exactly_one_operation()
    {
        var from = await OpenFundedAsync(100m);
        var to = await OpenFundedAsync(0m);
        var key = $"same-{Guid.NewGuid():N}";
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            await using var scope = Services.CreateAsyncScope();
            try { return (Guid?)(await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new Features.Transfer(from, to, 1m, key))).Id; }
            catch (ContentionException) { return null; }
        }));

        var answered = outcomes.OfType<Guid>().Distinct().ToList();
        Assert.Single(answered);
        await using var check = Services.CreateAsyncScope();
        var db = check.ServiceProvider.GetRequiredService<LedgerDbContext>();
        Assert.Equal(1, await db.Transfers.CountAsync(t => t.FromAccountId == from));
        Assert.Equal(99m, await BalanceAsync(from));
        Assert.Empty(await LedgerInvariants.CheckAccountsAsync(db, [from, to]));
        if (!IsUnsafeBaseline) Assert.All(outcomes, o => Assert.NotNull(o));
    }

    [Fact]
    public async Task A_row_changed_without_LoadForWrite_is_refused_and_nothing_is_written()
    {
        var account = await OpenFundedAsync(100m);
        await using (var scope = Services.CreateAsyncScope())
        {
            var strategy = scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => strategy.ExecuteAsync(async (session, ct) =>
            {
                var unprotected = await session.Db.Accounts.SingleAsync(a => a.Id == account, ct);
                session.Db.Entries.Add(unprotected.Post(5m, Guid.CreateVersion7(), OperationKind.Deposit));
                return true;
            }, CancellationToken.None));
            Assert.Contains("LoadForWriteAsync", error.Message);
        }
        Assert.Equal(100m, await BalanceAsync(account));
    }

    void AssertOutcome(List<string> violations)
    {
        foreach (var violation in violations) _output.WriteLine(violation);
        if (IsUnsafeBaseline) Assert.NotEmpty(violations);
        else Assert.Empty(violations);
    }

    static async Task DepositAsync(IWriteSession<LedgerDbContext> session, Guid id, decimal amount, Func<Task> pause, CancellationToken ct)
    {
        var account = (await session.LoadForWriteAsync<Account>([id], ct)).Single();
        await pause();
        session.Db.Entries.Add(account.Post(amount, Guid.CreateVersion7(), OperationKind.Deposit));
    }

    static async Task WithdrawWithinJointLimitAsync(IWriteSession<LedgerDbContext> session, Guid a, Guid b, Guid debit, Func<Task> pause, CancellationToken ct)
    {
        var accounts = await session.LoadForWriteAsync<Account>([a, b], ct);
        await pause();
        if (accounts.Sum(x => x.Balance) - 100m < 0)
            throw new BusinessRuleException("Joint limit", "Together the accounts would fall below zero.");
        session.Db.Entries.Add(accounts.Single(x => x.Id == debit).Post(-100m, Guid.CreateVersion7(), OperationKind.Withdrawal));
    }

    static async Task DepositIfRangeHasRoomAsync(IWriteSession<LedgerDbContext> session, Guid id, Func<Task> pause, CancellationToken ct)
    {
        var account = (await session.LoadForWriteAsync<Account>([id], ct)).Single();
        var entries = await session.Db.Entries.CountAsync(e => e.AccountId == id, ct);
        await pause();
        if (entries >= 2) throw new BusinessRuleException("Range full", "The account already has two entries.");
        session.Db.Entries.Add(account.Post(5m, Guid.CreateVersion7(), OperationKind.Deposit));
    }

    delegate Task Unit(IWriteSession<LedgerDbContext> session, Func<Task> pause, CancellationToken ct);

    /// <summary>
    /// Runs two units through the strategy so that both have read before either writes: the first pauses after its
    /// reads until the second has read too, or is seen waiting for a lock; then the first goes on, and when it is done
    /// (or is itself seen waiting), the second. Only first attempts pause; re-runs go straight through.
    /// </summary>
    async Task<(Exception? First, Exception? Second)> TwoSessionsAsync(Unit first, Unit second)
    {
        await using var probeScope = Services.CreateAsyncScope();
        var probe = probeScope.ServiceProvider.GetRequiredService<LedgerDbContext>();
        var (read1, go1, read2, go2) = (new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource());

        var run1 = RunPausingAsync(first, read1, go1);
        var run2 = Task.CompletedTask;
        try
        {
            await Task.WhenAny(read1.Task, run1);
            run2 = RunPausingAsync(second, read2, go2);
            var blocked = await LockWaits.ArrivedOrBlockedAsync(Task.WhenAny(read2.Task, run2), probe);
            _output.WriteLine(blocked ? "second session waited for a lock" : "second session read alongside the first");

            go1.SetResult();
            await LockWaits.ArrivedOrBlockedAsync(run1.ContinueWith(_ => { }), probe);
        }
        finally
        {
            // Whatever happened, no session stays paused holding locks into the next test.
            go1.TrySetResult();
            go2.TrySetResult();
        }
        return (await CaptureAsync(run1), await CaptureAsync(run2));
    }

    async Task RunPausingAsync(Unit unit, TaskCompletionSource read, TaskCompletionSource go)
    {
        await Task.Yield();
        await using var scope = Services.CreateAsyncScope();
        var strategy = scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<LedgerDbContext>>();
        var paused = false;
        Task Pause()
        {
            if (paused) return Task.CompletedTask;
            paused = true;
            read.TrySetResult();
            return go.Task;
        }
        await strategy.ExecuteAsync(async (session, ct) => { await unit(session, Pause, ct); return true; }, CancellationToken.None);
    }

    static async Task<Exception?> CaptureAsync(Task task)
    {
        try { await task; return null; }
        catch (Exception e) { return e; }
    }

    Task<Guid> OpenFundedAsync(decimal amount, decimal overdraftLimit = 0m) => Services.OpenFundedAsync(amount, overdraftLimit);

    async Task<decimal> BalanceAsync(Guid account)
    {
        await using var scope = Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new GetAccount(account))).Balance;
    }

    async Task<List<string>> CheckAsync(params Guid[] accounts)
    {
        await using var scope = Services.CreateAsyncScope();
        return await LedgerInvariants.CheckAccountsAsync(scope.ServiceProvider.GetRequiredService<LedgerDbContext>(), accounts);
    }
}

public sealed class PessimisticRowLockRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override bool NeverGivesUp => true;
    protected override string Strategy => nameof(StrategyName.PessimisticRowLock);
}

public sealed class OptimisticCasRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.OptimisticCas);
}

public sealed class HybridMvccRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.HybridMvcc);
}

public sealed class GapLockRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.GapLock);
}

public sealed class SerializableRetryRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.SerializableRetry);
}

public sealed class SingleWriterRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override bool NeverGivesUp => true;
    protected override string Strategy => nameof(StrategyName.SingleWriter);
}

/// <summary>The unsafe baseline: the same scenarios must catch it.</summary>
public sealed class UnsafeBaselineRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override string Strategy => UnsafeReadModifyWrite<LedgerDbContext>.StrategyName;
    protected override bool IsUnsafeBaseline => true;
}
