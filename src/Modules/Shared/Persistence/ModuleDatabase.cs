using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Monolith.Shared.Concurrency;

namespace Monolith.Shared.Persistence;

public static class ModuleDatabase
{
    /// <summary>
    /// ConnectionStrings:Monolith wins (ConnectionStrings__Monolith in the environment); otherwise the entry named
    /// after this build's provider, ConnectionStrings:PostgreSql or ConnectionStrings:MySql.
    /// </summary>
    public static string ConnectionString(IConfiguration configuration)
    {
        var configured = configuration.GetConnectionString("Monolith")
            ?? configuration.GetConnectionString(DatabaseProvider.Current.ToString())
            ?? throw new InvalidOperationException(
                $"No connection string: set ConnectionStrings:Monolith or ConnectionStrings:{DatabaseProvider.Current}.");
        return DatabaseProvider.WithDriverSettings(configured, ConnectTimeout(configuration), CommandTimeout(configuration),
            ConcurrencyOptions.From(configuration).LockTimeout);
    }

    /// <summary>
    /// Database:ConnectTimeout (default 5 s): how long opening a connection may take, a pooled one included, so a
    /// server that is down, frozen or out of connections answers 503 in that time.
    /// </summary>
    public static TimeSpan ConnectTimeout(IConfiguration configuration) => configuration.GetValue("Database:ConnectTimeout", TimeSpan.FromSeconds(5));

    /// <summary>
    /// Database:CommandTimeout (default 10 s): how long one command may take; it must exceed Concurrency:LockTimeout,
    /// or a lock wait would end as an outage (503) instead of a conflict the strategy re-runs.
    /// </summary>
    public static TimeSpan CommandTimeout(IConfiguration configuration) => configuration.GetValue("Database:CommandTimeout", TimeSpan.FromSeconds(10));

    /// <summary>How long /health waits for a dependency before it reports it unhealthy.</summary>
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The databases ./dev creates; for design-time tools and tests.</summary>
    public const string DefaultConnectionString = DatabaseProvider.DefaultConnectionString;

    public static IServiceCollection AddModuleDbContext<TDb>(this IServiceCollection services, IConfiguration configuration, string module)
        where TDb : ModuleDbContext
    {
        var connectionString = ConnectionString(configuration);
        services.AddHealthChecks().AddCheck<ModuleDatabaseHealthCheck<TDb>>($"{module}-database", timeout: HealthCheckTimeout);
        if (DatabaseProfiles.From(configuration) == DatabaseProfile.GaleraCluster && services.All(s => s.ServiceType != typeof(GaleraNodeHealthCheck)))
        {
            services.AddSingleton(new GaleraNodeHealthCheck(connectionString));
            services.AddHealthChecks().AddCheck<GaleraNodeHealthCheck>("galera-node", timeout: HealthCheckTimeout);
        }
        // Every module's context is also a ModuleDbContext, for what concerns them all (the test fixtures drop the database through one).
        services.AddScoped<ModuleDbContext>(sp => sp.GetRequiredService<TDb>());
        // The factory gives each attempt of a unit a context of its own (the strategies' sessions), and each scope one for
        // its queries. Contexts come from a pool: a new one costs EF an internal service scope and its caches, about a
        // fifth of a transfer's allocations, and a pooled one comes back with its change tracker and settings reset.
        var profile = DatabaseProfiles.From(configuration);
        // Registered before EF's own factory, which then stays out (EF adds it with TryAdd).
        services.AddSingleton<IDbContextFactory<TDb>>(sp => WithTableMappingBuilt(new PooledDbContextFactory<TDb>(sp.GetRequiredService<DbContextOptions<TDb>>())));
        services.AddPooledDbContextFactory<TDb>((sp, o) => o.UseModuleDatabase(connectionString, module)
            .AddInterceptors(sp.GetServices<ModuleInterceptor<TDb>>().Select(i => i.Interceptor)));
        return services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<TDb>>().CreateDbContext());
    }

    /// <summary>
    /// The factory, once its model maps to tables. EF Core 9 and 10 map a model to its tables on its first query, and two
    /// first queries at once can find that mapping neither built nor buildable (GetRelationalModel checks the two without
    /// a lock), so one of them fails: a 500 among a fresh Host's first requests (docs/scale-out.md). Built here, once,
    /// before any context is handed out, it leaves nothing to race.
    /// </summary>
    static IDbContextFactory<TDb> WithTableMappingBuilt<TDb>(IDbContextFactory<TDb> factory) where TDb : ModuleDbContext
    {
        using var db = factory.CreateDbContext();
        db.Model.GetRelationalModel();
        return factory;
    }
}

/// <summary>/health: whether a module's database answers; unhealthy when it does not, or not within the check's timeout.</summary>
internal sealed class ModuleDatabaseHealthCheck<TDb>(TDb db) : IHealthCheck where TDb : ModuleDbContext
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        await db.Database.CanConnectAsync(ct)
            ? HealthCheckResult.Healthy($"{DatabaseProvider.Current} reachable")
            : HealthCheckResult.Unhealthy($"{DatabaseProvider.Current} unreachable");
}

/// <summary>
/// /health on <see cref="DatabaseProfile.GaleraCluster"/>: the node's state in the cluster. Only a Synced node serves
/// this Host's writes; any other state is unhealthy, and a load balancer should route around the Host.
/// </summary>
internal sealed class GaleraNodeHealthCheck(string connectionString) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var connection = DatabaseProvider.Connect(connectionString);
            await connection.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_cluster_status'); " +
                                  "SHOW SESSION VARIABLES LIKE 'wsrep_sync_wait'";
            var status = new Dictionary<string, string>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
                do
                {
                    while (await reader.ReadAsync(ct)) status[reader.GetString(0)] = reader.GetString(1);
                } while (await reader.NextResultAsync(ct));
            var description = $"node {status.GetValueOrDefault("wsrep_local_state_comment", "?")}, cluster {status.GetValueOrDefault("wsrep_cluster_status", "?")} " +
                              $"of {status.GetValueOrDefault("wsrep_cluster_size", "?")} nodes, wsrep_sync_wait {status.GetValueOrDefault("wsrep_sync_wait", "?")}";
            if (status.GetValueOrDefault("wsrep_local_state_comment") != "Synced" || status.GetValueOrDefault("wsrep_cluster_status") != "Primary")
                return new HealthCheckResult(context.Registration.FailureStatus, description);
            // Without causal reads, a read here may miss a write another node has acknowledged.
            return status.GetValueOrDefault("wsrep_sync_wait") is "0" or null
                ? HealthCheckResult.Degraded(description + ": reads may miss writes acknowledged through other nodes")
                : HealthCheckResult.Healthy(description);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"the Galera node did not answer: {e.GetType().Name}");
        }
    }
}

/// <summary>An interceptor on <typeparamref name="TDb"/>'s contexts alone: what its strategy must see of their commands.</summary>
public sealed record ModuleInterceptor<TDb>(Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor Interceptor) where TDb : ModuleDbContext;
