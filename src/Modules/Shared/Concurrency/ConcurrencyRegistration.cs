using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Concurrency.Strategies;
using Monolith.Shared.Persistence;
using StackExchange.Redis;

namespace Monolith.Shared.Concurrency;

public static class ConcurrencyRegistration
{
    /// <summary>
    /// Registers the strategy configured for <paramref name="module"/> (Concurrency:Modules:&lt;module&gt;, else
    /// Concurrency:Strategy). An unknown name throws here, so the host does not start.
    /// </summary>
    public static IServiceCollection AddConcurrencyStrategy<TDb>(this IServiceCollection services, IConfiguration configuration, string module)
        where TDb : ModuleDbContext
    {
        var options = configuration.GetSection(ConcurrencyOptions.Section).Get<ConcurrencyOptions>() ?? new ConcurrencyOptions();
        if (options.MaxAttempts < 1) throw new InvalidOperationException("Concurrency:MaxAttempts must be at least 1.");
        var strategy = Parse(options.StrategyFor(module), module);

        services.TryAddSingleton(options);
        services.TryAddSingleton<ConcurrencyMetrics>();
        services.TryAddSingleton<StrategyRuntime>();
        if (strategy == StrategyName.RedisLock) AddRedisLocks(services, configuration);
        if (strategy == StrategyName.SingleWriter)
        {
            ValidateSingleWriter(options.SingleWriter);
            services.TryAddSingleton<WriteQueue<TDb>>();
        }
        services.AddScoped<IConcurrencyStrategy<TDb>>(sp => Create(strategy, sp.GetRequiredService<TDb>(), sp.GetRequiredService<StrategyRuntime>(), sp));
        services.AddSingleton(new ConfiguredStrategy(module, strategy));
        return services;
    }

    public static StrategyName Parse(string configured, string module) =>
        Enum.GetValues<StrategyName>().Cast<StrategyName?>()
            .FirstOrDefault(s => string.Equals(s.ToString(), configured?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidOperationException(
            $"Unknown concurrency strategy '{configured}' for module {module} (Concurrency:Strategy or Concurrency:Modules:{module}). " +
            $"Known strategies: {string.Join(", ", Enum.GetNames<StrategyName>())}.");

    static void ValidateSingleWriter(SingleWriterOptions options)
    {
        if (options.Partitions < 1) throw new InvalidOperationException("Concurrency:SingleWriter:Partitions must be at least 1.");
        if (options.MaxBatchSize < 1) throw new InvalidOperationException("Concurrency:SingleWriter:MaxBatchSize must be at least 1.");
        if (options.QueueCapacity < 1) throw new InvalidOperationException("Concurrency:SingleWriter:QueueCapacity must be at least 1.");
    }

    /// <summary>
    /// The Redis connection (ConnectionStrings:Redis, default 127.0.0.1:6379). It does not abort when Redis is down at
    /// start-up: it reconnects in the background, and until then every RedisLock write fails closed with a 503.
    /// </summary>
    static void AddRedisLocks(IServiceCollection services, IConfiguration configuration)
    {
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

    public static IConcurrencyStrategy<TDb> Create<TDb>(StrategyName name, TDb db, StrategyRuntime runtime, IServiceProvider services) where TDb : ModuleDbContext =>
        name switch
        {
            StrategyName.PessimisticRowLock => new PessimisticRowLock<TDb>(db, runtime),
            StrategyName.OptimisticCas => new OptimisticCas<TDb>(db, runtime),
            StrategyName.HybridMvcc => new HybridMvcc<TDb>(db, runtime),
            StrategyName.GapLock => new GapLock<TDb>(db, runtime),
            StrategyName.SerializableRetry => new SerializableRetry<TDb>(db, runtime),
            StrategyName.RedisLock => new RedisLock<TDb>(db, runtime, services.GetRequiredService<RedisLocks>()),
            StrategyName.SingleWriter => new SingleWriter<TDb>(services.GetRequiredService<WriteQueue<TDb>>()),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
}

/// <summary>Which strategy a module runs; logged at start-up and shown by /health.</summary>
public sealed record ConfiguredStrategy(string Module, StrategyName Strategy);
