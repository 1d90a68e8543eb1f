using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency;

/// <summary>What a handler sees of the strategy while its unit of work runs.</summary>
public interface IWriteSession<out TDb> where TDb : ModuleDbContext
{
    /// <summary>For reads of anything, and for adding new rows. Never call SaveChanges: the strategy writes what the unit changed.</summary>
    TDb Db { get; }

    /// <summary>Loads the rows this unit will change, protected the way the strategy decides (locked, or version-checked at write).</summary>
    Task<IReadOnlyList<TRow>> LoadForWriteAsync<TRow>(IReadOnlyCollection<Guid> ids, CancellationToken ct) where TRow : class, IVersioned;

    /// <summary>Loads one row for write; a row that does not exist is the <paramref name="resource"/> the request named, not found (404).</summary>
    async Task<TRow> LoadOneForWriteAsync<TRow>(Guid id, string resource, CancellationToken ct) where TRow : class, IVersioned =>
        (await LoadForWriteAsync<TRow>([id], ct)).SingleOrDefault() ?? throw new NotFoundException(resource, id);
}

/// <summary>A unit of work: reads, decisions and changes; it may run more than once, each time from fresh reads.</summary>
public delegate Task<TResult> UnitOfWork<TDb, TResult>(IWriteSession<TDb> session, CancellationToken ct) where TDb : ModuleDbContext;

/// <summary>A unit of work that returns nothing; what its handler answers with, the unit leaves in a local the handler reads after the commit.</summary>
public delegate Task UnitOfWork<TDb>(IWriteSession<TDb> session, CancellationToken ct) where TDb : ModuleDbContext;
