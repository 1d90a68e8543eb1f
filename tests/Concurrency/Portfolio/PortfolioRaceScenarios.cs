using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Portfolio;

/// <summary>
/// The Portfolio race, written once and run for every strategy (one class each, one database each) and for the
/// unsafe baseline, which must be caught.
/// </summary>
public abstract class PortfolioRaceScenarios : IClassFixture<TestDatabase>, IAsyncLifetime
{
    readonly ITestOutputHelper _output;

    protected PortfolioRaceScenarios(TestDatabase database, ITestOutputHelper output)
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
    public async Task Buys_sells_and_backdated_transactions_on_one_token_match_a_sequential_recomputation()
    {
        var options = new PortfolioWorkloadOptions();
        var result = await new PortfolioWorkload(Services).RunAsync(options, seed: 7);
        RaceReport.Write(Strategy, $"portfolio, {options.Workers} workers, one token", result.ToString());
        _output.WriteLine(result.ToString());
        foreach (var violation in result.Violations.Take(20)) _output.WriteLine(violation);

        if (!result.StoppedEarly) Assert.Equal(options.Workers * options.OperationsPerWorker, result.Operations);
        Assert.True(result.Backdated > 0, "no transaction was backdated");
        if (IsUnsafeBaseline)
        {
            Assert.Contains(result.Violations, v => v.Contains("sequential recomputation") || v.Contains("position holds"));
        }
        else
        {
            Assert.Empty(result.Violations);
            Assert.True(result.Oversold > 0, "no sell was refused: the oversell rule was not exercised");
            Assert.InRange(result.GaveUp, 0, GiveUpCeilings.For(Strategy, GiveUpCeilings.Portfolio, result.Operations));
        }
    }
}

public sealed class PessimisticRowLockPortfolioRaces(TestDatabase database, ITestOutputHelper output) : PortfolioRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.PessimisticRowLock);
}

public sealed class OptimisticCasPortfolioRaces(TestDatabase database, ITestOutputHelper output) : PortfolioRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.OptimisticCas);
}

public sealed class HybridMvccPortfolioRaces(TestDatabase database, ITestOutputHelper output) : PortfolioRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.HybridMvcc);
}

public sealed class GapLockPortfolioRaces(TestDatabase database, ITestOutputHelper output) : PortfolioRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.GapLock);
}

public sealed class SerializableRetryPortfolioRaces(TestDatabase database, ITestOutputHelper output) : PortfolioRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.SerializableRetry);
}

public sealed class SingleWriterPortfolioRaces(TestDatabase database, ITestOutputHelper output) : PortfolioRaceScenarios(database, output)
{
    protected override string Strategy => nameof(StrategyName.SingleWriter);
}

/// <summary>The unsafe baseline: the same race must catch it.</summary>
public sealed class UnsafeBaselinePortfolioRaces(TestDatabase database, ITestOutputHelper output) : PortfolioRaceScenarios(database, output)
{
    protected override string Strategy => UnsafeReadModifyWrite.StrategyName;
    protected override bool IsUnsafeBaseline => true;
}
