using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>A keyed unit as a batch runs it: the key is looked up in the batch's transaction.</summary>
internal sealed class Once<TDb, TCommand>(TCommand command, UnitOfWork<TDb, Guid> write)
    where TDb : ModuleDbContext where TCommand : IIdempotentCommand
{
    public Task<Guid> RunAsync(IWriteSession<TDb> session, CancellationToken ct) =>
        ((BatchSession<TDb>)session).OnceAsync(command, () => write(session, ct), ct);
}
