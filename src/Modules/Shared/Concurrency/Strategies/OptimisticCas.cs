using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// No locks while reading and deciding. Each row the unit loaded for write is written as a compare-and-swap,
/// UPDATE ... SET ..., version = version + 1 WHERE id = @id AND version = @read, in key order; an affected-row
/// count other than one is a conflict, and the whole unit re-runs from fresh reads. Rows read for the decision but
/// left unchanged are swapped too (their version alone moves): validating only the rows written would let write
/// skew through, two units each deciding on A and B and each writing a different one.
/// </summary>
public sealed class OptimisticCas<TDb>(TDb db, StrategyRuntime runtime) : WriteSession<TDb>(db, nameof(StrategyName.OptimisticCas), runtime)
    where TDb : ModuleDbContext
{
    protected internal override async Task<TResult> RunAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct)
    {
        await using var tx = await BeginAsync(IsolationLevel.ReadCommitted, ct);
        var result = await work(this, ct);
        DetectChangesOnce();
        BumpVersions(everyClaimedRow: true);
        await WriteAsync(CompareAndSwap, ct);
        await tx.CommitAsync(ct);
        return result;
    }

    protected override Task<IReadOnlyList<TRow>> LoadRowsAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) =>
        QueryRowsAsync<TRow>(ids, lockClause: "", ct);

    // EF's concurrency tokens do not apply here by design: Version is no token in the model, so that the other
    // strategies' writes carry no hidden check and the unsafe baseline stays unsafe.
    RowGuard CompareAndSwap => new((entry, read, _) => ($"{Sql.Names(entry.Metadata).Version} = {read}", []),
        (entry, read) => Task.FromResult<Exception>(new ConcurrencyConflictException(
            $"{entry.Metadata.ClrType.Name} {((IVersioned)entry.Entity).Id} changed since version {read} was read.")));
}
