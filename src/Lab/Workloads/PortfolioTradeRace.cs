using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Portfolio.Domain;
using Monolith.Portfolio;
using Monolith.Portfolio.Features;
using Monolith.Portfolio.Persistence;
using Monolith.Shared.Access;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Lab.Invariants;
using Monolith.Shared.Persistence;

namespace Monolith.Lab;

/// <summary>
/// The Portfolio race: buys and sells of one token in the portfolios of the hot set, one in four backdated into the
/// position's recorded history, so that every later snapshot must be recomputed; then every position is recomputed
/// from its transactions and compared with what is stored (the race suite's check).
/// </summary>
internal sealed class PortfolioTradeRace : IRaceWorkload
{
    const string Symbol = "TKN";
    static readonly DateTimeOffset Start = new(2025, 1, 2, 0, 0, 0, TimeSpan.Zero);
    static readonly Caller Trader = Caller.Operator("lab");
    static readonly PortfolioModule Portfolio = new();

    public string Name => "portfolio-trades";
    public string Title => "Portfolio: buys and sells of one token per portfolio of the hot set, one in four backdated";

    // RedisLock protects only rows that store a fencing token, which positions do not.
    public IReadOnlyList<string> Strategies { get; } = StrategyDefinition.BuiltIn.Select(d => d.Name).Where(n => n != nameof(StrategyName.RedisLock)).ToList();

    public async Task<IRaceArena> PrepareAsync(string serverConnectionString, string databaseName, string strategy, DatabaseProfile profile,
        ConcurrencyMetrics? countAlsoIn, int hotSet, CancellationToken ct)
    {
        var stack = RaceStack.Build(Portfolio, RaceStack.OnDatabase(serverConnectionString, databaseName), strategy, profile, countAlsoIn);
        try
        {
            await using (var scope = stack.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<PortfolioDbContext>().Database.EnsureDeletedAsync(ct);
            await Portfolio.MigrateAsync(stack, ct);
            await using var setup = stack.CreateAsyncScope();
            var mediator = setup.ServiceProvider.GetRequiredService<IMediator>();
            await mediator.Send(new RegisterToken(Trader, Symbol, "USD"), ct);
            var portfolios = new Guid[hotSet];
            for (var i = 0; i < hotSet; i++)
            {
                portfolios[i] = (await mediator.Send(new OpenPortfolio(Trader), ct)).Id;
                await mediator.Send(new RecordTransaction(Trader, portfolios[i], Symbol, TradeSide.Buy, 1_000m, 100m, 90m, Start), ct);
            }
            return new Arena(stack, portfolios);
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>The store's name of one of the Portfolio's tables, for the bench's raw-SQL ceiling.</summary>
    internal static string Table(string name) => DatabaseProvider.ModuleTable(PortfolioDbContext.StoreName, name);

    /// <summary>One trade the race sends: in the position of portfolio <paramref name="Portfolio"/>, executed at <paramref name="ExecutedAt"/>.</summary>
    internal readonly record struct Trade(int Portfolio, Guid PositionId, RandomTrade Order, DateTimeOffset ExecutedAt);

    internal sealed class Arena(ServiceProvider stack, Guid[] portfolios) : IRaceArena
    {
        // Each portfolio's clock: the minutes handed out so far after Start.
        readonly long[] _minutes = new long[portfolios.Length];

        public ConcurrencyMetrics Metrics => stack.GetRequiredService<ConcurrencyMetrics>();

        /// <summary>
        /// The next trade of a worker drawing from <paramref name="random"/>: a random portfolio of the hot set, one in
        /// four backdated. The bench's ceiling sends the same trades on the driver.
        /// </summary>
        internal Trade NextTrade(Random random)
        {
            var i = random.Next(portfolios.Length);
            var order = RandomTrade.Next(random);
            var executedAt = random.Next(4) == 0 ? Backdated(i, random) : Start.AddMinutes(Interlocked.Increment(ref _minutes[i]));
            return new Trade(i, Position.IdFor(portfolios[i], Symbol), order, executedAt);
        }

        public async Task RunWorkerAsync(int worker, Func<bool> keepGoing, Action<RaceOutcome, long> ended, CancellationToken ct)
        {
            var random = new Random(portfolios.Length * 1000 + worker);
            await using var scope = stack.CreateAsyncScope();
            var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
            while (keepGoing() && !ct.IsCancellationRequested)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var (i, _, order, executedAt) = NextTrade(random);
                RaceOutcome outcome;
                try
                {
                    await mediator.Send(new RecordTransaction(Trader, portfolios[i], Symbol, order.Side, order.Quantity, order.UnitPrice, order.LocalUnitPrice,
                        executedAt, Guid.NewGuid().ToString()), ct);
                    outcome = RaceOutcome.Committed;
                }
                catch (ContentionException) { outcome = RaceOutcome.GaveUp; }
                catch (BusinessRuleException) { outcome = RaceOutcome.Refused; } // an oversell, now or at an earlier instant
                ended(outcome, started);
            }
        }

        /// <summary>Up to half an hour before the portfolio's latest minute; a whole minute now and then, to tie with a recorded instant.</summary>
        DateTimeOffset Backdated(int portfolio, Random random)
        {
            var minutes = Math.Max(0, Interlocked.Read(ref _minutes[portfolio]) - random.Next(1, 30));
            return Start.AddMinutes(minutes).AddSeconds(random.Next(4) == 0 ? 0 : random.Next(1, 60));
        }

        public async Task<IReadOnlyList<InvariantCheck>> CheckAsync(CancellationToken ct)
        {
            await using var scope = stack.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortfolioDbContext>();
            var violations = new List<string>();
            foreach (var portfolio in portfolios) violations.AddRange(await PortfolioInvariants.CheckPositionAsync(db, Position.IdFor(portfolio, Symbol), ct));
            var transactions = await db.Transactions.CountAsync(ct);
            var negative = await db.Snapshots.CountAsync(s => s.Amount < 0m, ct) + await db.Positions.CountAsync(p => p.Amount < 0m, ct);
            return
            [
                new("every snapshot equals its recomputation", violations.Count == 0,
                    $"{transactions} transactions in {portfolios.Length} positions recomputed in (executed at, id) order; {violations.Count} differences",
                    violations.FirstOrDefault() ?? ""),
                new("no negative holding", negative == 0, $"{negative} snapshots or positions below zero", $"{negative} snapshots or positions hold a negative amount"),
            ];
        }

        public async ValueTask DisposeAsync()
        {
            await using (var scope = stack.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<PortfolioDbContext>().Database.EnsureDeletedAsync();
            await stack.DisposeAsync();
        }
    }
}
