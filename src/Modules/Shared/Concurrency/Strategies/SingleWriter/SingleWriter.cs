using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// Linearized writes: a unit is queued, not run on the caller's thread. One writer per partition drains its queue and
/// runs what it finds, up to Concurrency:SingleWriter:MaxBatchSize units, in one transaction, in arrival order, so no
/// two writes of a partition ever conflict and a batch pays one commit for all its units. A unit goes to the partition
/// of its smallest declared key; the batch locks every declared row up front in key order and holds its row locks to
/// the commit, which keeps other partitions and other processes correct (docs/strategies.md).
/// </summary>
public sealed class SingleWriter<TDb>(WriteQueue<TDb> queue) : IConcurrencyStrategy<TDb> where TDb : ModuleDbContext
{
    public string Name => nameof(StrategyName.SingleWriter);

    public Task<TResult> ExecuteAsync<TResult>(WriteKeys keys, UnitOfWork<TDb, TResult> work, CancellationToken ct) =>
        queue.EnqueueAsync(keys, work, ct);

    // The writer's transactions run at READ COMMITTED, where a missing key locks nothing, and a batch must see the
    // keys of its earlier units: the key is looked up inside the batch.
    public Task<Guid> ExecuteOnceAsync<TCommand>(TCommand command, WriteKeys keys, UnitOfWork<TDb, Guid> write, CancellationToken ct)
        where TCommand : IIdempotentCommand =>
        queue.EnqueueAsync(keys, new Once<TDb, TCommand>(command, write).RunAsync, ct);
}
