using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger;
using Monolith.Shared.Concurrency;
using MediatR;
using Monolith.Ledger.Features;
using Monolith.Shared.Errors;
using Monolith.Lab.Invariants;
using Monolith.Shared.Persistence;

namespace Monolith.Lab;

/// <summary>
/// A scratch database of its own for the Ledger race, used by the benchmark (bench/) and the lab (/lab): the Ledger
/// schema as the Host migrates it, seeded with accounts through plain SQL (the commands would take minutes for ten
/// thousand), each with one deposit entry so that every balance equals its entries; then the race's invariants. Its
/// provider seam: connections and table names.
/// </summary>
internal sealed class LedgerScratch
{
    public const decimal InitialBalance = 1_000_000_000m;

    /// <summary>The database <paramref name="name"/> on the server of ConnectionStrings__Monolith (or the default one).</summary>
    public LedgerScratch(string name = "monolith_bench")
        : this(Environment.GetEnvironmentVariable("ConnectionStrings__Monolith") ?? ModuleDatabase.DefaultConnectionString, name)
    {
    }

    public LedgerScratch(string serverConnectionString, string name) => ConnectionString = RaceStack.OnDatabase(serverConnectionString, name);

    public string ConnectionString { get; }
    public Guid[] Accounts { get; private set; } = [];

    public static string Table(string name) => DatabaseProvider.ModuleTable(Monolith.Ledger.Persistence.LedgerDbContext.StoreName, name);
    public DbConnection Connect() => DatabaseProvider.Connect(ConnectionString);

    static readonly LedgerModule Ledger = new();

    /// <summary>The Ledger module as the Host wires it, on this database, with <paramref name="strategy"/>.</summary>
    public ServiceProvider Services(string strategy, DatabaseProfile profile = DatabaseProfile.SingleServer, ConcurrencyMetrics? countAlsoIn = null) =>
        RaceStack.Build(Ledger, ConnectionString, strategy, profile, countAlsoIn);

    /// <summary>
    /// One worker of the race: transfers of 1.00 between two random distinct accounts of the first
    /// <paramref name="hotSet"/>, each with a key of its own as every real client sends one, through
    /// <paramref name="stack"/>'s MediatR and strategy, while <paramref name="keepGoing"/> says so.
    /// </summary>
    public async Task RunWorkerAsync(IServiceProvider stack, int hotSet, int worker, Func<bool> keepGoing, Action<RaceOutcome, long> ended, CancellationToken ct)
    {
        var random = new Random(hotSet * 1000 + worker);
        await using var scope = stack.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        while (keepGoing() && !ct.IsCancellationRequested)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var i = random.Next(hotSet);
            var (from, to) = (Accounts[i], Accounts[(i + 1 + random.Next(hotSet - 1)) % hotSet]);
            RaceOutcome outcome;
            try
            {
                await mediator.Send(new Transfer(Owner, from, to, 1m, Guid.NewGuid().ToString()), ct);
                outcome = RaceOutcome.Committed;
            }
            catch (ContentionException) { outcome = RaceOutcome.GaveUp; }
            catch (BusinessRuleException) { outcome = RaceOutcome.Refused; }
            ended(outcome, started);
        }
    }

    /// <summary>Who owns the seeded accounts and sends every transfer, in process and over HTTP.</summary>
    public static readonly Monolith.Shared.Access.Caller Owner = Monolith.Shared.Access.Caller.Owner("bench");

    /// <summary>Drops and recreates the database, migrates it and opens <paramref name="accounts"/> funded accounts.</summary>
    public async Task CreateAsync(int accounts)
    {
        await using (var services = Services(nameof(StrategyName.PessimisticRowLock)))
        {
            await using (var scope = services.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<Monolith.Ledger.Persistence.LedgerDbContext>().Database.EnsureDeletedAsync();
            await Ledger.MigrateAsync(services);
        }

        Accounts = Enumerable.Range(0, accounts).Select(_ => Guid.CreateVersion7()).ToArray();
        await using var connection = Connect();
        await connection.OpenAsync();
        foreach (var batch in Accounts.Chunk(500))
        {
            await using var insert = connection.CreateCommand();
            var values = string.Join(", ", batch.Select((_, i) => $"(@a{i}, '{Owner.Subject}', 'EUR', {InitialBalance}, 0, 0)"));
            var entries = string.Join(", ", batch.Select((_, i) => $"(@a{i}, {InitialBalance}, {InitialBalance}, @a{i}, 'Deposit')"));
            insert.CommandText =
                $"INSERT INTO {Table("accounts")} (id, owner, currency, balance, overdraft_limit, version) VALUES {values}; " +
                $"INSERT INTO {Table("entries")} (account_id, amount, balance_after, operation_id, operation) VALUES {entries}";
            for (var i = 0; i < batch.Length; i++) Add(insert, $"a{i}", batch[i]);
            await insert.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Drops the database: what a lab run leaves behind is gone with it.</summary>
    public async Task DropAsync()
    {
        await using var services = Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<Monolith.Ledger.Persistence.LedgerDbContext>().Database.EnsureDeletedAsync();
    }

    /// <summary>
    /// Every cell starts from the same table state: the dead row versions that earlier cells left on the hot rows are
    /// vacuumed away (PostgreSQL; InnoDB purges its undo by itself), so no strategy pays for the one before it.
    /// </summary>
    public async Task SettleAsync()
    {
        if (DatabaseProvider.VacuumSql(Table("accounts")) is not { } sql) return;
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var vacuum = connection.CreateCommand();
        vacuum.CommandText = sql;
        await vacuum.ExecuteNonQueryAsync();
    }

    /// <summary>The money invariants after a race: the total is unchanged, no balance is negative, and every balance equals its entries.</summary>
    public async Task<List<string>> CheckAsync() => [.. (await InvariantsAsync()).Where(c => !c.Held).Select(c => c.Violation)];

    /// <summary>
    /// Each invariant, held or not, with its figures: nothing created or lost since the seeding, and the race suite's
    /// own checks (<see cref="LedgerInvariants.CheckAccountsAsync"/>) on every account.
    /// </summary>
    public async Task<IReadOnlyList<InvariantCheck>> InvariantsAsync()
    {
        await using var services = Services(nameof(StrategyName.PessimisticRowLock));
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Monolith.Ledger.Persistence.LedgerDbContext>();
        var expected = InitialBalance * Accounts.Length;
        var sum = await db.Accounts.SumAsync(a => a.Balance);
        var violations = await LedgerInvariants.CheckAccountsAsync(db, Accounts);
        return
        [
            new("conservation", sum == expected, $"balances sum to {sum:0.00}; {expected:0.00} was deposited", $"balances sum to {sum}, expected {expected}"),
            new(BalancesAgree, violations.Count == 0,
                $"{Accounts.Length} accounts: none below its limit, each balance its last entry's and its entries' sum, each chain unbroken; {violations.Count} violations",
                violations.FirstOrDefault() ?? ""),
        ];
    }

    /// <summary>The name of the check that a lost or torn write breaks (the race suite's, on the scratch's accounts).</summary>
    public const string BalancesAgree = "balances agree with their entries";

    public static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
