using BenchmarkDotNet.Attributes;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Shared.Concurrency;

using Monolith.Lab;

namespace Monolith.Bench;

/// <summary>
/// What the stack costs per transfer on one connection with no contention: MediatR, validation, the strategy and EF
/// against the raw-SQL transfer, with allocations. Each call moves 1.00 back and forth between two accounts.
/// </summary>
[MemoryDiagnoser]
public class TransferCost
{
    LedgerScratch _database = null!;
    ServiceProvider? _services;
    AsyncServiceScope _scope;
    IMediator _mediator = null!;
    RawTransfer _raw = null!;
    bool _forth;

    [Params(nameof(StrategyName.PessimisticRowLock), nameof(StrategyName.OptimisticCas), nameof(StrategyName.HybridMvcc),
        nameof(StrategyName.GapLock), nameof(StrategyName.SerializableRetry), nameof(StrategyName.SingleWriter))]
    public string Strategy { get; set; } = "";

    [GlobalSetup]
    public async Task SetUpAsync()
    {
        _database = new LedgerScratch("monolith_bench_cost");
        await _database.CreateAsync(accounts: 2);
        _services = _database.Services(Strategy);
        _scope = _services.CreateAsyncScope();
        _mediator = _scope.ServiceProvider.GetRequiredService<IMediator>();
        _raw = await RawTransfer.OpenAsync(_database);
    }

    [Benchmark(Baseline = true, Description = "raw SQL")]
    public Task RawSql() => _raw.TransferAsync(From, To, 1m);

    [Benchmark(Description = "MediatR + strategy + EF")]
    public Task Stack() => _mediator.Send(new Transfer(LedgerScratch.Owner, From, To, 1m));

    Guid From => (_forth = !_forth) ? _database.Accounts[0] : _database.Accounts[1];
    Guid To => _forth ? _database.Accounts[1] : _database.Accounts[0];

    [GlobalCleanup]
    public async Task CleanUpAsync()
    {
        await _raw.DisposeAsync();
        await _scope.DisposeAsync();
        if (_services is not null) await _services.DisposeAsync();
    }
}
