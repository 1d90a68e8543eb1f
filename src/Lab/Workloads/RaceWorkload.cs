using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Modules;
using Monolith.Shared.Persistence;

namespace Monolith.Lab;

/// <summary>
/// A module's race on hot rows, offered to the lab (/lab), which runs it in the Host, and to the bench, which times it:
/// one piece of code for both. Each race gets a scratch database of its own, so its rows never mix with real ones.
/// </summary>
public interface IRaceWorkload
{
    /// <summary>"ledger-transfers": what a lab run names.</summary>
    string Name { get; }

    /// <summary>One line for a person choosing it.</summary>
    string Title { get; }

    /// <summary>The strategies that can write its rows.</summary>
    IReadOnlyList<string> Strategies { get; }

    /// <summary>
    /// Creates (or recreates) the database <paramref name="databaseName"/> on the server of
    /// <paramref name="serverConnectionString"/> with <paramref name="hotSet"/> rows to race on, and the module's stack
    /// on it writing through <paramref name="strategy"/>, under <paramref name="profile"/> (the Host's own); its
    /// measurements count in <paramref name="countAlsoIn"/> too, when given (the Host's, which /metrics carries).
    /// </summary>
    Task<IRaceArena> PrepareAsync(string serverConnectionString, string databaseName, string strategy, DatabaseProfile profile,
        ConcurrencyMetrics? countAlsoIn, int hotSet, CancellationToken ct);
}

/// <summary>A prepared race: workers to run, the metrics of its strategy, and the invariants to check after it.</summary>
public interface IRaceArena : IAsyncDisposable
{
    /// <summary>This arena's own meter: its attempts, conflicts, give-ups and lock waits, and no one else's.</summary>
    ConcurrencyMetrics Metrics { get; }

    /// <summary>
    /// Worker <paramref name="worker"/>: operations one after another, each through MediatR and the strategy, while
    /// <paramref name="keepGoing"/> says so; each ends with <paramref name="ended"/> (its outcome, and the timestamp it
    /// started at, from <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).
    /// </summary>
    Task RunWorkerAsync(int worker, Func<bool> keepGoing, Action<RaceOutcome, long> ended, CancellationToken ct);

    /// <summary>The race suite's invariants on the arena's rows, held or not, with their figures.</summary>
    Task<IReadOnlyList<InvariantCheck>> CheckAsync(CancellationToken ct);
}

/// <summary>How one operation ended: committed; gave up on contention (answered 409); or refused by a rule (422).</summary>
public enum RaceOutcome { Committed, GaveUp, Refused }

/// <summary>One invariant after a race: whether it held, its figures, and the violation as the bench reports it.</summary>
public sealed record InvariantCheck(string Name, bool Held, string Figures, [property: System.Text.Json.Serialization.JsonIgnore] string Violation);

/// <summary>What every race's scratch needs: its database's connection string, and the module's stack on it.</summary>
public static class RaceStack
{
    /// <summary>The connection string of the database <paramref name="name"/> on the server of <paramref name="serverConnectionString"/>.</summary>
    public static string OnDatabase(string serverConnectionString, string name)
    {
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = serverConnectionString };
        builder["Database"] = name;
        builder["Maximum Pool Size"] = "300";
        return builder.ConnectionString;
    }

    /// <summary>
    /// <paramref name="module"/> as the Host wires it, on <paramref name="connectionString"/>'s database, writing through
    /// <paramref name="strategy"/> under <paramref name="profile"/>: a strategy the profile refuses stops here. Its
    /// measurements count in <paramref name="countAlsoIn"/> too, when given.
    /// </summary>
    public static ServiceProvider Build(IModule module, string connectionString, string strategy,
        DatabaseProfile profile = DatabaseProfile.SingleServer, ConcurrencyMetrics? countAlsoIn = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Monolith"] = connectionString,
            ["Concurrency:Strategy"] = strategy,
            [DatabaseProfiles.Key] = profile.ToString(),
        }).Build();
        var services = new ServiceCollection().AddLogging();
        // Before the module's registration, whose TryAdd of the metrics then keeps this one.
        if (countAlsoIn is not null) services.AddSingleton(_ => ConcurrencyMetrics.CountingAlsoIn(countAlsoIn));
        module.AddServices(services, configuration);
        return services.BuildServiceProvider();
    }
}
