using Monolith.Lab.Invariants;
using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Domain;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Ledger;

/// <summary>
/// The Ledger race scenarios, written once and run for every strategy (one class each, one database each) and for
/// the unsafe baseline, which must be caught: where a strategy must end with no violation, the baseline must end
/// with at least one. The bank workload over a hot set, then the interleavings (<see cref="LedgerInterleavings"/>).
/// </summary>
public abstract class LedgerRaceScenarios(TestDatabase database, ITestOutputHelper output)
    : LedgerInterleavings(output, (strategy, _) => database.Services(strategy)), IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public async Task Bank_workload_over_a_hot_set_keeps_every_money_invariant(int hotAccounts)
    {
        var options = new BankWorkloadOptions(hotAccounts);
        var result = await new BankWorkload(Services).RunAsync(options, seed: hotAccounts);
        RaceReport.Write(Strategy, $"bank, {options.Workers} workers, {hotAccounts} hot accounts{SettingSuffix}", result.ToString());
        Output.WriteLine(result.ToString());
        foreach (var violation in result.Violations.Take(20)) Output.WriteLine(violation);

        if (!result.StoppedEarly) Assert.Equal(options.Workers * options.OperationsPerWorker, result.Operations);
        Assert.True(result.ReaderSnapshots > 0, "the readers took no snapshot");
        if (IsUnsafeBaseline)
        {
            Assert.Contains(result.Violations, v => !v.Contains("unexpected"));
        }
        else
        {
            Assert.Empty(result.Violations);
            Assert.InRange(result.GaveUp, 0, GiveUpCeilings.For(Strategy, GiveUpCeilings.Bank, result.Operations));
        }
    }

}

/// <summary>
/// Two units of work interleaved so that both read before either writes, one anomaly per scenario. On a cluster
/// (tests/Cluster) each interleaving's second unit, and every other request for one idempotency key, runs on a stack
/// bound to a second node.
/// </summary>
public abstract class LedgerInterleavings : IAsyncLifetime
{
    readonly ITestOutputHelper _output;
    protected ITestOutputHelper Output => _output;

    /// <summary><paramref name="stackOnNode"/> builds the stack for a strategy on node 1 or node 2 of the setting.</summary>
    protected LedgerInterleavings(ITestOutputHelper output, Func<string, int, ServiceProvider> stackOnNode)
    {
        _output = output;
        Services = stackOnNode(Strategy, 1);
        SecondServices = stackOnNode(Strategy, 2);
    }

    protected abstract string Strategy { get; }
    protected virtual bool IsUnsafeBaseline => false;

    /// <summary>Where the scenarios run, for the anomaly matrix: the provider, or a cluster setting.</summary>
    protected virtual string Setting => Monolith.Shared.Persistence.DatabaseProvider.Current.ToString();

    /// <summary>Whether a lost update is prevented; null where neither outcome is certain.</summary>
    protected virtual bool? LostUpdateOutcome => !IsUnsafeBaseline;

    /// <summary>Whether write skew over two claimed rows is prevented; null where neither outcome is certain.</summary>
    protected virtual bool? WriteSkewOutcome => !IsUnsafeBaseline;

    /// <summary>Whether read skew over claimed rows is prevented. The unsafe baseline reads from one snapshot on InnoDB (REPEATABLE READ), so there it is safe by accident.</summary>
    protected virtual bool? ReadSkewOutcome => !IsUnsafeBaseline || LockWaits.IsMySql;

    /// <summary>
    /// Whether write skew over a row a unit only read is prevented: only by strategies that protect what a unit read,
    /// not just what it claimed (docs/strategies.md); null where neither outcome is certain.
    /// </summary>
    protected virtual bool? RowsOnlyReadOutcome => false;
    protected ServiceProvider Services { get; }
    ServiceProvider SecondServices { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        if (SecondServices != Services) await SecondServices.DisposeAsync();
    }

    [Fact]
    public async Task An_overdraft_is_refused_by_the_rule_not_by_the_database()
    {
        // The CHECK constraint would refuse it too, as a bare 422 "Constraint violated": the rule must come first, to say why.
        var account = await OpenFundedAsync(10m);
        await using (var scope = Services.CreateAsyncScope())
        {
            var refusal = await Assert.ThrowsAsync<BusinessRuleException>(() => scope.ServiceProvider.GetRequiredService<IMediator>().Send(new Withdraw(Tester, account, 10.01m)));
            Assert.Equal("Insufficient funds", refusal.Title);
            Assert.Contains("overdraft limit", refusal.Message);
        }
        Assert.Equal(10m, await BalanceAsync(account));
    }

    [Fact]
    public async Task Lost_update_P4_two_deposits_both_count()
    {
        var account = await OpenFundedAsync(100m);
        var outcome = await TwoSessionsAsync(
            (session, pause, ct) => DepositAsync(session, account, 10m, pause, ct),
            (session, pause, ct) => DepositAsync(session, account, 20m, pause, ct));
        Assert.Null(outcome.First);
        Assert.Null(outcome.Second);

        var violations = await CheckAsync(account);
        var balance = await BalanceAsync(account);
        if (balance != 130m) violations.Insert(0, $"balance {balance:0.00}, expected 130");
        AssertOutcome(AnomalyMatrix.LostUpdate, violations, outcome, prevented: LostUpdateOutcome);
    }

    [Fact]
    public async Task Write_skew_G2_item_a_joint_limit_over_two_accounts_holds()
    {
        // Each may go to -100 alone, but together they must stay at or above zero: a rule over two rows, each
        // unit writing only one of them.
        var a = await OpenFundedAsync(60m, overdraftLimit: 100m);
        var b = await OpenFundedAsync(60m, overdraftLimit: 100m);
        var outcome = await TwoSessionsAsync(
            (session, pause, ct) => WithdrawWithinJointLimitAsync(session, a, b, debit: a, pause, ct),
            (session, pause, ct) => WithdrawWithinJointLimitAsync(session, a, b, debit: b, pause, ct));

        var violations = await CheckAsync(a, b);
        var joint = await BalanceAsync(a) + await BalanceAsync(b);
        if (joint < 0) violations.Insert(0, $"joint balance {joint:0.00} is below zero");
        if (WriteSkewOutcome == true)
            Assert.Single(new[] { outcome.First, outcome.Second }, e => e is BusinessRuleException);
        AssertOutcome(AnomalyMatrix.WriteSkew, violations, outcome, prevented: WriteSkewOutcome);
    }

    [Fact]
    public async Task Write_skew_G2_item_where_each_unit_only_reads_the_other_account()
    {
        // The joint limit again, but each unit claims only the account it debits and reads the other one plainly:
        // only a strategy that protects what a unit read, not just what it claimed, can keep the limit
        // (docs/strategies.md says which). The others must be seen to break it, or the docs are wrong.
        // A third account sits between A and B in key order, so its entries lie between theirs in the entries index:
        // InnoDB's next-key lock at the bottom of B's range would otherwise cover the gap above A's, and GapLock would
        // stop this by the accident of two neighbouring ranges, not by anything it promises. Ids made in the same
        // millisecond are not ordered, so the three are sorted as both databases order them (by their text).
        var opened = new[] { await OpenFundedAsync(60m, overdraftLimit: 100m), await OpenFundedAsync(60m, overdraftLimit: 100m), await OpenFundedAsync(60m, overdraftLimit: 100m) };
        var (a, b) = opened.OrderBy(id => id.ToString(), StringComparer.Ordinal).ToArray() is [var low, _, var high] ? (low, high) : default;
        var outcome = await TwoSessionsAsync(
            (session, pause, ct) => WithdrawWithinJointLimitReadingTheOtherAsync(session, debit: a, other: b, pause, ct),
            (session, pause, ct) => WithdrawWithinJointLimitReadingTheOtherAsync(session, debit: b, other: a, pause, ct));

        var violations = await CheckAsync(a, b);
        var joint = await BalanceAsync(a) + await BalanceAsync(b);
        if (joint < 0) violations.Insert(0, $"joint balance {joint:0.00} is below zero");
        AssertOutcome(AnomalyMatrix.WriteSkewOverARowOnlyRead, violations, outcome, prevented: RowsOnlyReadOutcome);
    }

    [Fact]
    public async Task Read_skew_a_unit_that_reads_two_accounts_in_turn_sees_a_total_that_existed()
    {
        // The first unit claims A, pauses, then claims B; meanwhile a transfer moves 10 from A to B. A unit that acts
        // on what it saw (here: nothing is written, the total is only observed) must have seen a total that existed.
        var a = await OpenFundedAsync(100m);
        var b = await OpenFundedAsync(100m);
        var seen = 0m;
        var outcome = await TwoSessionsAsync(
            async (session, pause, ct) =>
            {
                var first = (await session.LoadForWriteAsync<Account>([a], ct)).Single();
                await pause();
                var second = (await session.LoadForWriteAsync<Account>([b], ct)).Single();
                seen = first.Balance + second.Balance; // the committed run's value is the last one written
            },
            async (session, _, ct) =>
            {
                var rows = await session.LoadForWriteAsync<Account>([a, b], ct);
                var operation = Guid.CreateVersion7();
                session.Db.Entries.Add(rows.Single(x => x.Id == a).Post(-10m, operation, OperationKind.Transfer));
                session.Db.Entries.Add(rows.Single(x => x.Id == b).Post(10m, operation, OperationKind.Transfer));
            });
        Assert.Null(outcome.First);
        Assert.Null(outcome.Second);

        var violations = await CheckAsync(a, b);
        if (seen != 200m) violations.Insert(0, $"the unit committed having seen a total of {seen:0.00}; the accounts always held 200");
        AssertOutcome(AnomalyMatrix.ReadSkew, violations, outcome, prevented: ReadSkewOutcome);
    }

    [Fact]
    public async Task Phantom_insert_into_an_accounts_range_is_seen()
    {
        // The rule reads a range of entries, not a row: at most two entries per account in this scenario.
        var account = await OpenFundedAsync(100m);
        var outcome = await TwoSessionsAsync(
            (session, pause, ct) => DepositIfRangeHasRoomAsync(session, account, pause, ct),
            (session, pause, ct) => DepositIfRangeHasRoomAsync(session, account, pause, ct));

        var violations = await CheckAsync(account);
        await using (var scope = Services.CreateAsyncScope())
        {
            var entries = await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Entries.CountAsync(e => e.AccountId == account);
            if (entries != 2) violations.Insert(0, $"the account has {entries} entries, the rule allows 2");
        }
        if (!IsUnsafeBaseline)
            Assert.Single(new[] { outcome.First, outcome.Second }, e => e is BusinessRuleException);
        AssertOutcome(AnomalyMatrix.PhantomBehindItsOwnerRow, violations, outcome, prevented: !IsUnsafeBaseline);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_make_exactly_one_operation()
    {
        var from = await OpenFundedAsync(100m);
        var to = await OpenFundedAsync(0m);
        var key = $"same-{Guid.NewGuid():N}";
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            await using var scope = (i % 2 == 0 ? Services : SecondServices).CreateAsyncScope();
            try { return (Guid?)(await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new Transfer(Tester, from, to, 1m, key))).Id; }
            catch (ContentionException) { return null; }
        }));

        var answered = outcomes.OfType<Guid>().Distinct().ToList();
        var gaveUp = outcomes.Count(o => o is null);
        AnomalyMatrix.Record(Strategy, AnomalyMatrix.DoubleApply, Setting, answered.Count > 1
            ? $"**occurs**: {answered.Count} operations for one key"
            : gaveUp == 0 ? "applied once, 16 of 16 answered it" : $"applied once; {gaveUp} of 16 answered 409");
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

    /// <summary>
    /// Records what the run observed in the anomaly matrix, then holds the strategy to what the docs say of it:
    /// prevented, or shown; null when neither is promised nor certain (recorded only).
    /// </summary>
    void AssertOutcome(string anomaly, List<string> violations, Interleaving<LedgerDbContext>.Outcome outcome, bool? prevented)
    {
        foreach (var violation in violations) _output.WriteLine(violation);
        AnomalyMatrix.Record(Strategy, anomaly, Setting, AnomalyMatrix.Observed(violations, outcome.Prevention));
        if (prevented == true) Assert.Empty(violations);
        else if (prevented == false) Assert.NotEmpty(violations);
    }

    internal static async Task DepositAsync(IWriteSession<LedgerDbContext> session, Guid id, decimal amount, Func<Task> pause, CancellationToken ct)
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

    internal static async Task WithdrawWithinJointLimitReadingTheOtherAsync(IWriteSession<LedgerDbContext> session, Guid debit, Guid other, Func<Task> pause, CancellationToken ct)
    {
        var mine = (await session.LoadForWriteAsync<Account>([debit], ct)).Single();
        var theirs = await session.Db.Accounts.AsNoTracking().Where(x => x.Id == other).Select(x => x.Balance).SingleAsync(ct);
        await pause();
        if (mine.Balance + theirs - 100m < 0)
            throw new BusinessRuleException("Joint limit", "Together the accounts would fall below zero.");
        session.Db.Entries.Add(mine.Post(-100m, Guid.CreateVersion7(), OperationKind.Withdrawal));
    }

    static async Task DepositIfRangeHasRoomAsync(IWriteSession<LedgerDbContext> session, Guid id, Func<Task> pause, CancellationToken ct)
    {
        var account = (await session.LoadForWriteAsync<Account>([id], ct)).Single();
        var entries = await session.Db.Entries.CountAsync(e => e.AccountId == id, ct);
        await pause();
        if (entries >= 2) throw new BusinessRuleException("Range full", "The account already has two entries.");
        session.Db.Entries.Add(account.Post(5m, Guid.CreateVersion7(), OperationKind.Deposit));
    }

    Task<Interleaving<LedgerDbContext>.Outcome> TwoSessionsAsync(Interleaving<LedgerDbContext>.Unit first, Interleaving<LedgerDbContext>.Unit second) =>
        new Interleaving<LedgerDbContext>(Services, _output, secondServices: SecondServices).RunAsync(first, second);

    protected string SettingSuffix => Setting == Monolith.Shared.Persistence.DatabaseProvider.Current.ToString() ? "" : $", {Setting}";

    /// <summary>
    /// Opens and funds an account through the first stack; on a cluster, returns once the second stack's node serves
    /// it too, so that what a scenario measures is the race, not its set-up still replicating.
    /// </summary>
    async Task<Guid> OpenFundedAsync(decimal amount, decimal overdraftLimit = 0m)
    {
        var account = await Services.OpenFundedAsync(amount, overdraftLimit);
        if (SecondServices == Services) return account;
        var (_, seen) = await NodesAgree.ReadAsync(() => Task.FromResult<decimal?>(amount), () => StoredBalanceAsync(account, SecondServices), (_, _, _) => { });
        return seen == amount ? account : throw new InvalidOperationException($"account {account} did not reach the second node in a minute");
    }

    /// <summary>The balance as the stack's node stores it, or null while it has no such account.</summary>
    static async Task<decimal?> StoredBalanceAsync(Guid account, IServiceProvider stack)
    {
        await using var scope = stack.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LedgerDbContext>().Accounts.AsNoTracking()
            .Where(a => a.Id == account).Select(a => (decimal?)a.Balance).SingleOrDefaultAsync();
    }

    async Task<decimal> BalanceAsync(Guid account, IServiceProvider? stack = null)
    {
        await using var scope = (stack ?? Services).CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new GetAccount(Tester, account))).Balance;
    }

    /// <summary>
    /// The invariants as the first stack's node sees them; on a cluster, once both nodes hold the same balances
    /// (<see cref="NodesAgree"/>): what a scenario checks is what the cluster committed, not how soon a node shows it.
    /// Nodes that never agree are a violation naming both figures.
    /// </summary>
    async Task<List<string>> CheckAsync(params Guid[] accounts)
    {
        var disagreements = new List<string>();
        if (SecondServices != Services)
            foreach (var account in accounts)
            {
                var (first, second) = await NodesAgree.ReadAsync(() => BalanceAsync(account), () => BalanceAsync(account, SecondServices),
                    (read, one, two) => _output.WriteLine($"read {read}: account {account}: the first stack's node holds {one:0.00}, the second's {two:0.00}"));
                if (first != second) disagreements.Add($"account {account}: the first stack's node holds {first:0.00}, the second's {second:0.00}");
            }
        await using var scope = Services.CreateAsyncScope();
        var violations = await LedgerInvariants.CheckAccountsAsync(scope.ServiceProvider.GetRequiredService<LedgerDbContext>(), accounts);
        violations.AddRange(disagreements);
        return violations;
    }
}

public sealed class PessimisticRowLockRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
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
    protected override bool? RowsOnlyReadOutcome => true;
    protected override string Strategy => nameof(StrategyName.SerializableRetry);
}

public sealed class SingleWriterRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.SingleWriter);
}

/// <summary>The unsafe baseline: the same scenarios must catch it.</summary>
public sealed class UnsafeBaselineRaces(TestDatabase database, ITestOutputHelper output) : LedgerRaceScenarios(database, output)
{
    protected override string Strategy => UnsafeReadModifyWrite.StrategyName;
    protected override bool IsUnsafeBaseline => true;
}
