using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;

namespace Monolith.Bench;

/// <summary>
/// The benchmark's database: the Ledger schema as the Host migrates it, seeded with accounts through plain SQL (the
/// commands would take minutes for ten thousand), each with one deposit entry so that every balance equals its
/// entries. The bench's provider seam: connections and table names.
/// </summary>
internal sealed class BenchDatabase
{
    public const decimal InitialBalance = 1_000_000_000m;

    public BenchDatabase(string name = "monolith_bench")
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Monolith") ?? ModuleDatabase.DefaultConnectionString };
        builder["Database"] = name;
        builder["Maximum Pool Size"] = "300";
        ConnectionString = builder.ConnectionString;
    }

    public string ConnectionString { get; }
    public Guid[] Accounts { get; private set; } = [];

    public static string Table(string name) => DatabaseProvider.ModuleTable(Monolith.Ledger.Persistence.LedgerDbContext.ModuleName, name);
    public DbConnection Connect() => DatabaseProvider.Connect(ConnectionString);

    static readonly LedgerModule Ledger = new();

    /// <summary>The Ledger module as the Host wires it, on this database, with <paramref name="strategy"/>.</summary>
    public ServiceProvider Services(string strategy)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Monolith"] = ConnectionString,
            ["Concurrency:Strategy"] = strategy,
        }).Build();
        var services = new ServiceCollection().AddLogging();
        Ledger.AddServices(services, configuration);
        return services.BuildServiceProvider();
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

    /// <summary>The money invariants after a cell: the total is unchanged and every balance equals its entries.</summary>
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

    public async Task<List<string>> CheckAsync()
    {
        var violations = new List<string>();
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var total = connection.CreateCommand();
        total.CommandText = $"SELECT SUM(balance) FROM {Table("accounts")}";
        var sum = Convert.ToDecimal(await total.ExecuteScalarAsync());
        if (sum != InitialBalance * Accounts.Length) violations.Add($"balances sum to {sum}, expected {InitialBalance * Accounts.Length}");

        await using var entries = connection.CreateCommand();
        entries.CommandText =
            $"SELECT COUNT(*) FROM {Table("accounts")} a JOIN (SELECT account_id, SUM(amount) AS total FROM {Table("entries")} GROUP BY account_id) e " +
            "ON e.account_id = a.id WHERE a.balance <> e.total";
        var mismatched = Convert.ToInt64(await entries.ExecuteScalarAsync());
        if (mismatched > 0) violations.Add($"{mismatched} accounts' balances differ from the sum of their entries");
        return violations;
    }

    public static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
