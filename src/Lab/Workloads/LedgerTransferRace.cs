using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Lab;

/// <summary>The Ledger race: transfers of 1.00 between random accounts of a hot set, as the bench's contention cells run them.</summary>
internal sealed class LedgerTransferRace : IRaceWorkload
{
    public string Name => "ledger-transfers";
    public string Title => "Ledger: transfers of 1.00 between random accounts of the hot set";

    // RedisLock protects only rows that store a fencing token, which Ledger's accounts do not.
    public IReadOnlyList<string> Strategies { get; } = StrategyDefinition.BuiltIn.Select(d => d.Name).Where(n => n != nameof(StrategyName.RedisLock)).ToList();

    public async Task<IRaceArena> PrepareAsync(string serverConnectionString, string databaseName, string strategy, DatabaseProfile profile,
        ConcurrencyMetrics? countAlsoIn, int hotSet, CancellationToken ct)
    {
        if (hotSet < 2) throw new ArgumentOutOfRangeException(nameof(hotSet), hotSet, "A transfer needs two accounts.");
        var scratch = new LedgerScratch(serverConnectionString, databaseName);
        // The stack first: a strategy the profile refuses stops here, before any database is made.
        var stack = scratch.Services(strategy, profile, countAlsoIn);
        try
        {
            await scratch.CreateAsync(hotSet);
            return new Arena(scratch, stack, hotSet);
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    sealed class Arena(LedgerScratch scratch, ServiceProvider stack, int hotSet) : IRaceArena
    {
        public ConcurrencyMetrics Metrics => stack.GetRequiredService<ConcurrencyMetrics>();

        public Task RunWorkerAsync(int worker, Func<bool> keepGoing, Action<RaceOutcome, long> ended, CancellationToken ct) =>
            scratch.RunWorkerAsync(stack, hotSet, worker, keepGoing, ended, ct);

        public Task<IReadOnlyList<InvariantCheck>> CheckAsync(CancellationToken ct) => scratch.InvariantsAsync();

        public async ValueTask DisposeAsync()
        {
            await stack.DisposeAsync();
            await scratch.DropAsync();
        }
    }
}
