using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Monolith.Shared.Concurrency.Strategies;
using Monolith.Shared.Persistence;
using StackExchange.Redis;

namespace Monolith.Shared.Concurrency;

/// <summary>
/// A strategy that configuration can select by <see cref="Name"/>, and what it needs registered first. Its
/// <see cref="Implementation"/> is an open generic type over the module's DbContext: a <see cref="WriteSession{TDb}"/>,
/// the policy one attempt runs under (its constructor takes the attempt's DbContext and says what else it needs), or a
/// whole <see cref="IConcurrencyStrategy{TDb}"/> built once (SingleWriter, which queues units instead of running them).
/// Adding a strategy is one definition; nothing switches on names.
/// </summary>
/// <para><see cref="RefusedOnCluster"/>: why the strategy's guarantee does not hold on a multi-primary cluster
/// (<see cref="DatabaseProfile.GaleraCluster"/>), as the cluster race scenarios measured it; null where it holds.</para>
/// <para><see cref="ReRunsConflicts"/>: false only for a baseline that must show what a conflict does unhandled.</para>
/// <para><see cref="ContextInterceptor"/>: what the strategy must see of each command its module's DbContexts send;
/// registered on that module's contexts only.</para>
public sealed record StrategyDefinition(string Name, Type Implementation, Action<IServiceCollection, IConfiguration, ConcurrencyOptions>? Prerequisites = null,
    string? RefusedOnCluster = null, bool ReRunsConflicts = true, IInterceptor? ContextInterceptor = null)
{
    public static readonly IReadOnlyList<StrategyDefinition> BuiltIn =
    [
        new(nameof(StrategyName.PessimisticRowLock), typeof(PessimisticRowLock<>)),
        new(nameof(StrategyName.OptimisticCas), typeof(OptimisticCas<>)),
        new(nameof(StrategyName.HybridMvcc), typeof(HybridMvcc<>)),
        new(nameof(StrategyName.GapLock), typeof(GapLock<>)),
        new(nameof(StrategyName.SerializableRetry), typeof(SerializableRetry<>), RefusedOnCluster:
            "what it promises beyond the others, that a unit's decision cannot rest on a row it only read and another unit " +
            "changed, does not hold there: its shared locks reach no other node, and two units on two nodes, each debiting " +
            "its own account against the other's balance, took the pair below their joint limit (tests/Cluster, RefusedStrategyTests)"),
        new(nameof(StrategyName.RedisLock), typeof(RedisLock<>), (services, configuration, _) => ConcurrencyRegistration.AddRedisLocks(services, configuration)),
        SingleWriterStrategy.Definition,
    ];
}

public static class ConcurrencyRegistration
{
    /// <summary>
    /// Makes <paramref name="definition"/> selectable by name in this container, beside the built-in ones; the test
    /// suite adds its unsafe baseline this way, so the Host can never select it.
    /// </summary>
    public static IServiceCollection AddStrategyDefinition(this IServiceCollection services, StrategyDefinition definition) =>
        services.AddSingleton(definition);

    /// <summary>
    /// Registers the strategy configured for <paramref name="module"/> (Concurrency:Modules:&lt;module&gt;, else
    /// Concurrency:Strategy). An unknown name throws here, so the host does not start.
    /// </summary>
    public static IServiceCollection AddConcurrencyStrategy<TDb>(this IServiceCollection services, IConfiguration configuration, string module)
        where TDb : ModuleDbContext
    {
        var options = ConcurrencyOptions.From(configuration);
        if (options.MaxAttempts < 1) throw new InvalidOperationException("Concurrency:MaxAttempts must be at least 1.");
        if (ModuleDatabase.CommandTimeout(configuration) <= options.LockTimeout)
            throw new InvalidOperationException(
                $"Database:CommandTimeout ({ModuleDatabase.CommandTimeout(configuration)}) must exceed Concurrency:LockTimeout ({options.LockTimeout}): " +
                "a statement waiting for a lock would otherwise time out as an outage instead of a conflict.");
        var definition = Find(Definitions(services), options.StrategyFor(module), module);
        var profile = DatabaseProfiles.From(configuration);
        if (profile == DatabaseProfile.GaleraCluster && definition.RefusedOnCluster is { } reason && !options.RunRefusedStrategy)
            throw new InvalidOperationException(
                $"Concurrency strategy {definition.Name} for module {module} is refused on {DatabaseProfiles.Key} {profile}: {reason}." +
                (Definitions(services).Where(d => d.RefusedOnCluster is null && StrategyDefinition.BuiltIn.Contains(d)).Select(d => d.Name).ToList() is { Count: > 0 } held
                    ? $" Choose one that holds there: {string.Join(", ", held)}."
                    : ""));

        services.TryAddSingleton(options);
        services.TryAdd(ServiceDescriptor.Singleton(typeof(DatabaseProfile), profile));
        services.TryAddSingleton<ConcurrencyMetrics>();
        services.TryAddSingleton<StrategyRuntime>();
        definition.Prerequisites?.Invoke(services, configuration, options);
        if (definition.ContextInterceptor is { } interceptor) services.AddSingleton(new ModuleInterceptor<TDb>(interceptor));
        var implementation = definition.Implementation.MakeGenericType(typeof(TDb));
        if (typeof(WriteSession<TDb>).IsAssignableFrom(implementation))
        {
            // Stateless: every attempt runs in a session of its own, built on the attempt's DbContext.
            var session = ActivatorUtilities.CreateFactory(implementation, [typeof(TDb)]);
            services.AddSingleton<IConcurrencyStrategy<TDb>>(sp => new ConcurrencyStrategy<TDb>(definition.Name,
                sp.GetRequiredService<IDbContextFactory<TDb>>(), sp.GetRequiredService<StrategyRuntime>(),
                db => (WriteSession<TDb>)session(sp, [db]), definition.ReRunsConflicts ? null : Polly.ResiliencePipeline.Empty));
        }
        else
        {
            var strategy = ActivatorUtilities.CreateFactory(implementation, Type.EmptyTypes);
            services.AddSingleton(sp => (IConcurrencyStrategy<TDb>)strategy(sp, null));
        }
        services.AddSingleton(new ConfiguredStrategy(module, definition.Name));
        return services;
    }

    static IReadOnlyList<StrategyDefinition> Definitions(IServiceCollection services) =>
        StrategyDefinition.BuiltIn
            .Concat(services.Where(s => s.ServiceType == typeof(StrategyDefinition)).Select(s => (StrategyDefinition)s.ImplementationInstance!))
            .ToList();

    static StrategyDefinition Find(IReadOnlyList<StrategyDefinition> definitions, string configured, string module) =>
        definitions.FirstOrDefault(d => string.Equals(d.Name, configured?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidOperationException(
            $"Unknown concurrency strategy '{configured}' for module {module} (Concurrency:Strategy or Concurrency:Modules:{module}). " +
            $"Known strategies: {string.Join(", ", definitions.Select(d => d.Name))}.");

    /// <summary>
    /// The Redis connection (ConnectionStrings:Redis, default 127.0.0.1:6379). It does not abort when Redis is down at
    /// start-up: it reconnects in the background, and until then every RedisLock write fails closed with a 503.
    /// </summary>
    internal static void AddRedisLocks(IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(RedisLocks))) return;
        // Redis down stops only the RedisLock writes; everything else answers: degraded, not unhealthy.
        services.AddHealthChecks().AddCheck<RedisLockHealthCheck>("redis-lock", HealthStatus.Degraded, timeout: ModuleDatabase.HealthCheckTimeout);
        services.TryAddSingleton<IConnectionMultiplexer>(_ =>
        {
            var redis = ConfigurationOptions.Parse(configuration.GetConnectionString("Redis") ?? "127.0.0.1:6379");
            redis.AbortOnConnectFail = false;
            redis.ConnectTimeout = Math.Min(redis.ConnectTimeout, 2_000);
            redis.SyncTimeout = Math.Min(redis.SyncTimeout, 2_000);
            redis.AsyncTimeout = Math.Min(redis.AsyncTimeout, 2_000);
            return ConnectionMultiplexer.Connect(redis);
        });
        services.TryAddSingleton<RedisLocks>();
    }
}

/// <summary>/health, where a module writes through RedisLock: whether Redis answers a PING.</summary>
internal sealed class RedisLockHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(ct);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis unreachable: RedisLock writes answer 503 until it is back");
        }
    }
}

/// <summary>Which strategy a module runs; logged at start-up and shown by /health.</summary>
public sealed record ConfiguredStrategy(string Module, string Strategy);
