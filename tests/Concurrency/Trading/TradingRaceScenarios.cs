using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Trading.Domain;
using Monolith.Trading.Features;
using Monolith.Trading.Persistence;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Trading;

/// <summary>The Trading race, run for every strategy (RedisLock included) and for the unsafe baseline, which must be caught.</summary>
public abstract class TradingRaceScenarios : IClassFixture<TestDatabase>, IAsyncLifetime
{
    readonly ITestOutputHelper _output;

    protected TradingRaceScenarios(TestDatabase database, ITestOutputHelper output)
    {
        _output = output;
        Services = database.Services(Strategy);
    }

    protected abstract string Strategy { get; }
    protected virtual bool IsUnsafeBaseline => false;
    ServiceProvider Services { get; }

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await Services.DisposeAsync();

    [Fact]
    public async Task Concurrent_fills_and_closes_on_one_account_keep_balance_pnl_drawdown_and_audit_exact()
    {
        var options = new TradingWorkloadOptions();
        var result = await new TradingWorkload(Services).RunAsync(options, seed: 11);
        RaceReport.Write(Strategy, $"trading, {options.Workers} workers, one account", result.ToString());
        _output.WriteLine(result.ToString());
        foreach (var violation in result.Violations.Take(20)) _output.WriteLine(violation);

        if (!result.StoppedEarly) Assert.Equal(options.Workers * options.OperationsPerWorker, result.Operations);
        if (IsUnsafeBaseline)
        {
            Assert.Contains(result.Violations, v => !v.Contains("unexpected"));
        }
        else
        {
            Assert.Empty(result.Violations);
            Assert.True(result.Filled > 0 && result.Closed > 0, "nothing was filled or closed");
            Assert.True(result.Refused > 0, "no worker lost a race for an order or a trade: the races did not happen");
            Assert.InRange(result.GaveUp, 0, GiveUpCeilings.For(Strategy, GiveUpCeilings.Trading, result.Operations));
        }
    }

    [Fact]
    public async Task Phantom_into_an_accounts_audit_range_that_only_the_range_guards()
    {
        // The rule reads a range (at most two audit entries per account) and the insert goes into that range, while
        // the account row itself is claimed but never changed: no write-write conflict on a shared row can catch it.
        // This is the phantom GapLock's range lock exists for; the others must stop it through what they claim.
        Guid account;
        await using (var scope = Services.CreateAsyncScope())
            account = (await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new OpenTradingAccount(Tester, 1_000m, 100m))).Id;

        var outcome = await new Interleaving<TradingDbContext>(Services, _output, RedisHoldsALockOnAsync(account)).RunAsync(
            (session, pause, ct) => AuditIfRangeHasRoomAsync(session, account, pause, ct),
            (session, pause, ct) => AuditIfRangeHasRoomAsync(session, account, pause, ct));

        var violations = new List<string>();
        await using (var scope = Services.CreateAsyncScope())
        {
            var entries = await scope.ServiceProvider.GetRequiredService<TradingDbContext>().Audit.CountAsync(e => e.EntityId == account);
            if (entries != 2) violations.Add($"the account has {entries} audit entries, the rule allows 2");
        }
        foreach (var violation in violations) _output.WriteLine(violation);
        AnomalyMatrix.Record(Strategy, AnomalyMatrix.PhantomGuardedByTheRangeAlone, AnomalyMatrix.Observed(violations, outcome.Prevention));
        if (IsUnsafeBaseline)
        {
            Assert.NotEmpty(violations);
        }
        else
        {
            Assert.Empty(violations);
            Assert.Single(new[] { outcome.First, outcome.Second }, e => e is BusinessRuleException);
        }
    }

    static async Task AuditIfRangeHasRoomAsync(IWriteSession<TradingDbContext> session, Guid id, Func<Task> pause, CancellationToken ct)
    {
        var account = (await session.LoadForWriteAsync<TradingAccount>([id], ct)).Single();
        var entries = await session.Db.Audit.CountAsync(e => e.EntityId == id, ct);
        await pause();
        if (entries >= 2) throw new BusinessRuleException("Range full", "The account already has two audit entries.");
        session.Db.Audit.Add(AuditEntry.Of(id, account, "Noted", "race test", account.State()));
    }

    /// <summary>RedisLock's waiters wait in Redis, where the database's lock views cannot see them.</summary>
    Func<Task<bool>>? RedisHoldsALockOnAsync(Guid row)
    {
        if (Services.GetService<IConnectionMultiplexer>() is not { } redis || Strategy != nameof(StrategyName.RedisLock)) return null;
        return () => Task.FromResult(redis.GetServer(redis.GetEndPoints()[0]).Keys(pattern: $"monolith:lock:trading:*{row:N}").Any());
    }
}

public sealed class PessimisticRowLockTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.PessimisticRowLock);
}

public sealed class OptimisticCasTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.OptimisticCas);
}

public sealed class HybridMvccTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.HybridMvcc);
}

public sealed class GapLockTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.GapLock);
}

public sealed class SerializableRetryTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.SerializableRetry);
}

public sealed class RedisLockTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.RedisLock);
}

public sealed class SingleWriterTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.SingleWriter);
}

/// <summary>The unsafe baseline: the same race must catch it.</summary>
public sealed class UnsafeBaselineTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => UnsafeReadModifyWrite.StrategyName;
    protected override bool IsUnsafeBaseline => true;
}
