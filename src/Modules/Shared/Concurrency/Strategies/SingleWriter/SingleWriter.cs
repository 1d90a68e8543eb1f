using Microsoft.Extensions.DependencyInjection.Extensions;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// Linearized writes: a unit is queued, not run on the caller's thread. One writer per partition drains its queue and
/// runs what it finds, up to Concurrency:SingleWriter:MaxBatchSize units, in one transaction, in arrival order, so no
/// two writes of a partition ever conflict and a batch pays one commit for all its units. A unit goes to the partition
/// of its smallest declared key; the batch locks every declared row up front in key order and holds its row locks to
/// the commit, which keeps other partitions and other processes correct (docs/strategies.md).
/// </summary>
/// <remarks>
/// Each unit is queued with its kind, the handler's unit code, the same for every unit one handler sends: the writer
/// learns per kind whether a unit reads the database, and saves the batch before such units run.
/// </remarks>
public sealed class SingleWriter<TDb>(WriteQueue<TDb> queue) : IConcurrencyStrategy<TDb> where TDb : ModuleDbContext
{
    public string Name => nameof(StrategyName.SingleWriter);

    public Task<TResult> ExecuteAsync<TResult>(WriteKeys keys, UnitOfWork<TDb, TResult> work, CancellationToken ct) =>
        queue.EnqueueAsync(keys, work.Method, work, ct);

    public Task ExecuteAsync(WriteKeys keys, UnitOfWork<TDb> work, CancellationToken ct) =>
        queue.EnqueueAsync<NoResult>(keys, work.Method, async (session, token) =>
        {
            await work(session, token);
            return default;
        }, ct);

    // The writer's transactions run at READ COMMITTED, where a missing key locks nothing, and a batch must see the
    // keys of its earlier units: the key is looked up inside the batch.
    public Task<Guid> ExecuteOnceAsync<TCommand>(TCommand command, WriteKeys keys, UnitOfWork<TDb, Guid> write, CancellationToken ct)
        where TCommand : IIdempotentCommand =>
        queue.EnqueueAsync(keys, write.Method, new Once<TDb, TCommand>(command, write).RunAsync, ct);
}

/// <summary>What configuration selects as SingleWriter: the one name of this folder that the rest of the core uses.</summary>
public static class SingleWriterStrategy
{
    public static StrategyDefinition Definition { get; } = new(nameof(StrategyName.SingleWriter), typeof(SingleWriter<>), (services, _, options) =>
    {
        Validate(options.SingleWriter);
        services.TryAddSingleton(typeof(WriteQueue<>));
    }, ContextInterceptor: ReadWatch.Instance);

    static void Validate(SingleWriterOptions options)
    {
        if (options.Partitions < 1) throw new InvalidOperationException("Concurrency:SingleWriter:Partitions must be at least 1.");
        if (options.MaxBatchSize < 1) throw new InvalidOperationException("Concurrency:SingleWriter:MaxBatchSize must be at least 1.");
        if (options.QueueCapacity < 1) throw new InvalidOperationException("Concurrency:SingleWriter:QueueCapacity must be at least 1.");
    }
}
