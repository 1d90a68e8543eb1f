using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>A module's write queues and their writers; one per module and process.</summary>
public sealed class WriteQueue<TDb> : IAsyncDisposable, IDisposable where TDb : ModuleDbContext
{
    readonly Partition[] _partitions;
    readonly SingleWriterOptions _options;
    readonly StrategyRuntime _runtime;
    readonly string _module;
    int _roundRobin;

    public WriteQueue(IServiceScopeFactory scopes, StrategyRuntime runtime)
    {
        _options = runtime.Options.SingleWriter;
        _runtime = runtime;
        using (var scope = scopes.CreateScope()) _module = scope.ServiceProvider.GetRequiredService<TDb>().Module;
        _partitions = Enumerable.Range(0, _options.Partitions).Select(i => new Partition(i, scopes, this)).ToArray();
        runtime.Metrics.ObserveQueueDepth(nameof(StrategyName.SingleWriter), _module, () => Depth);
    }

    internal async Task<TResult> EnqueueAsync<TResult>(WriteKeys keys, System.Reflection.MethodInfo kind, UnitOfWork<TDb, TResult> work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var unit = new QueuedUnit<TResult>(keys, kind, work);
        if (!PartitionFor(keys).TryEnqueue(unit)) throw new WriteQueueFullException(_module, _options.QueueCapacity);
        // A caller that gives up before its unit is taken is skipped; once taken, the unit's outcome is the caller's answer.
        await using var abandon = ct.Register(() => unit.Abandon(ct));
        return await unit.Outcome;
    }

    /// <summary>Units waiting in every partition's queue.</summary>
    internal int Depth => _partitions.Sum(p => p.Depth);

    Partition PartitionFor(WriteKeys keys)
    {
        if (keys.Ids.Count == 0) return _partitions[(int)((uint)Interlocked.Increment(ref _roundRobin) % _partitions.Length)];
        var smallest = keys.Ids.Min();
        return _partitions[(int)((uint)smallest.GetHashCode() % _partitions.Length)];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var partition in _partitions) partition.Complete();
        foreach (var partition in _partitions) await partition.DisposeAsync();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One queue, its writer loop and the writer's session (a DbContext of its own, used by this loop only).</summary>
    sealed class Partition : IAsyncDisposable
    {
        readonly Channel<QueuedUnit> _queue;
        readonly IServiceScopeFactory _scopes;
        readonly WriteQueue<TDb> _owner;
        readonly int _index;
        readonly Task _writer;
        IServiceScope? _scope;
        BatchSession<TDb>? _session;

        public Partition(int index, IServiceScopeFactory scopes, WriteQueue<TDb> owner)
        {
            _index = index;
            _scopes = scopes;
            _owner = owner;
            _queue = Channel.CreateBounded<QueuedUnit>(new BoundedChannelOptions(owner._options.QueueCapacity)
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            _writer = Task.Run(WriteAsync);
        }

        public int Depth => _queue.Reader.Count;
        public bool TryEnqueue(QueuedUnit unit) => _queue.Writer.TryWrite(unit);
        public void Complete() => _queue.Writer.TryComplete();

        async Task WriteAsync()
        {
            var runtime = _owner._runtime;
            var batch = new List<QueuedUnit>(_owner._options.MaxBatchSize);
            while (await _queue.Reader.WaitToReadAsync())
            {
                batch.Clear();
                while (batch.Count < _owner._options.MaxBatchSize && _queue.Reader.TryRead(out var unit))
                {
                    if (!unit.TryTake()) continue;
                    runtime.Metrics.QueueWaited(nameof(StrategyName.SingleWriter), _owner._module, Stopwatch.GetElapsedTime(unit.EnqueuedAt));
                    batch.Add(unit);
                }
                if (batch.Count == 0) continue;
                try
                {
                    await Session().RunAsync(batch);
                }
                catch (Exception e)
                {
                    // RunAsync answers every unit itself; this is a fault of the writer, which must outlive it.
                    runtime.Logger.LogError(e, "SingleWriter {Module} partition {Partition} failed a batch of {Count}", _owner._module, _index, batch.Count);
                    foreach (var unit in batch) unit.Fail(e);
                    ResetSession();
                }
            }
        }

        BatchSession<TDb> Session()
        {
            if (_session is not null) return _session;
            _scope = _scopes.CreateScope();
            var db = _scope.ServiceProvider.GetRequiredService<TDb>();
            db.Database.AutoSavepointsEnabled = false;
            _session = new BatchSession<TDb>(db, _owner._runtime);
            return _session;
        }

        /// <summary>A fresh DbContext for the next batch, after one whose connection or state cannot be trusted.</summary>
        void ResetSession()
        {
            _scope?.Dispose();
            _scope = null;
            _session = null;
        }

        public async ValueTask DisposeAsync()
        {
            await _writer;
            ResetSession();
        }
    }
}
