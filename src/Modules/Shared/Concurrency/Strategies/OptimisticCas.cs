using System.Data;
using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// No locks while reading and deciding. Each changed row is written as a compare-and-swap,
/// UPDATE ... SET ..., version = version + 1 WHERE id = @id AND version = @read, in key order; an affected-row
/// count other than one is a conflict, and the whole unit re-runs from fresh reads.
/// </summary>
public sealed class OptimisticCas<TDb>(TDb db, StrategyRuntime runtime) : ConcurrencyStrategy<TDb>(db, runtime)
    where TDb : ModuleDbContext
{
    public override string Name => nameof(StrategyName.OptimisticCas);

    protected override async Task<TResult> RunOnceAsync<TResult>(UnitOfWork<TDb, TResult> work, CancellationToken ct)
    {
        await using var tx = await BeginAsync(IsolationLevel.ReadCommitted, ct);
        var result = await work(this, ct);
        await CompareAndSwapAsync(ct);
        await Db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return result;
    }

    public override Task<IReadOnlyList<TRow>> LoadForWriteAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) =>
        QueryRowsAsync<TRow>(ids, lockClause: "", ct);

    // EF's concurrency tokens do not apply here by design: Version is no token in the model, so that the other
    // strategies' writes carry no hidden check and the unsafe baseline stays unsafe.
    async Task CompareAndSwapAsync(CancellationToken ct)
    {
        foreach (var entry in ChangedVersionedRows().ToList())
        {
            var (table, key, version) = Names(entry.Metadata);
            var args = new List<object>();
            string Arg(object value) { args.Add(value); return $"{{{args.Count - 1}}}"; }

            var sets = entry.Properties
                .Where(p => p.IsModified && p.Metadata.Name != nameof(IVersioned.Version))
                .Select(p => $"{Column(entry.Metadata, p.Metadata.Name)} = {Arg(p.CurrentValue!)}")
                .Append($"{version} = {version} + 1");
            var read = (long)entry.Property(nameof(IVersioned.Version)).OriginalValue!;
            var sql = $"UPDATE {table} SET {string.Join(", ", sets)} WHERE {key} = {Arg(((IVersioned)entry.Entity).Id)} AND {version} = {Arg(read)}";

            if (await Db.Database.ExecuteSqlRawAsync(sql, args, ct) != 1)
                throw new ConcurrencyConflictException($"{entry.Metadata.ClrType.Name} {((IVersioned)entry.Entity).Id} changed since version {read} was read.");
            entry.Property(nameof(IVersioned.Version)).CurrentValue = read + 1;
            entry.State = EntityState.Unchanged;
        }
    }
}
