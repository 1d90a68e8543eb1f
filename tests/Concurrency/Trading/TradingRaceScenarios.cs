using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
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

    /// <summary>Strategies that queue for their rows instead of giving up: no 409.</summary>
    protected virtual bool NeverGivesUp => false;
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

        Assert.Equal(options.Workers * options.OperationsPerWorker, result.Operations);
        if (IsUnsafeBaseline)
        {
            Assert.Contains(result.Violations, v => !v.Contains("unexpected"));
        }
        else
        {
            Assert.Empty(result.Violations);
            Assert.True(result.Filled > 0 && result.Closed > 0, "nothing was filled or closed");
            Assert.True(result.Refused > 0, "no worker lost a race for an order or a trade: the races did not happen");
            if (NeverGivesUp) Assert.Equal(0, result.GaveUp);
        }
    }
}

public sealed class PessimisticRowLockTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override bool NeverGivesUp => true;
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
    protected override bool NeverGivesUp => true;
    protected override string Strategy => nameof(StrategyName.SingleWriter);
}

/// <summary>The unsafe baseline: the same race must catch it.</summary>
public sealed class UnsafeBaselineTradingRaces(TestDatabase database, ITestOutputHelper output) : TradingRaceScenarios(database, output)
{
    protected override string Strategy => UnsafeReadModifyWrite<LedgerDbContext>.StrategyName;
    protected override bool IsUnsafeBaseline => true;
}
