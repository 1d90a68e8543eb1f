using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Concurrency.Strategies;
using Monolith.Shared.Persistence;

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
        services.AddScoped<IConcurrencyStrategy<TDb>>(sp => Create(strategy, sp.GetRequiredService<TDb>(), sp.GetRequiredService<StrategyRuntime>()));
        services.AddSingleton(new ConfiguredStrategy(module, strategy));
        return services;
    }

    public static StrategyName Parse(string configured, string module) =>
        Enum.GetValues<StrategyName>().Cast<StrategyName?>()
            .FirstOrDefault(s => string.Equals(s.ToString(), configured?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidOperationException(
            $"Unknown concurrency strategy '{configured}' for module {module} (Concurrency:Strategy or Concurrency:Modules:{module}). " +
            $"Known strategies: {string.Join(", ", Enum.GetNames<StrategyName>())}.");

    public static IConcurrencyStrategy<TDb> Create<TDb>(StrategyName name, TDb db, StrategyRuntime runtime) where TDb : ModuleDbContext =>
        name switch
        {
            StrategyName.PessimisticRowLock => new PessimisticRowLock<TDb>(db, runtime),
            StrategyName.OptimisticCas => new OptimisticCas<TDb>(db, runtime),
            StrategyName.HybridMvcc => new HybridMvcc<TDb>(db, runtime),
            StrategyName.GapLock => new GapLock<TDb>(db, runtime),
            StrategyName.SerializableRetry => new SerializableRetry<TDb>(db, runtime),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
}

/// <summary>Which strategy a module runs; logged at start-up and shown by /health.</summary>
public sealed record ConfiguredStrategy(string Module, StrategyName Strategy);
