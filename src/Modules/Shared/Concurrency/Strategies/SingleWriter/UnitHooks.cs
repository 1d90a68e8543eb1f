using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>A unit whose code is not the delegate's own method: SingleWriter tells units apart by their code.</summary>
internal interface IWrappedUnit
{
    System.Reflection.MethodInfo Code { get; }
}

/// <summary>A keyed unit as a batch runs it: the key is looked up in the batch's transaction.</summary>
internal sealed class Once<TDb, TCommand>(TCommand command, UnitOfWork<TDb, Guid> write) : IWrappedUnit
    where TDb : ModuleDbContext where TCommand : IIdempotentCommand
{
    public System.Reflection.MethodInfo Code => write.Method;

    public Task<Guid> RunAsync(IWriteSession<TDb> session, CancellationToken ct) =>
        ((WriteSession<TDb>)session).OnceAsync(command, () => write(session, ct), ct);
}

internal sealed class WithoutResult<TDb>(UnitOfWork<TDb> work) : IWrappedUnit where TDb : ModuleDbContext
{
    public System.Reflection.MethodInfo Code => work.Method;

    public async Task<NoResult> RunAsync(IWriteSession<TDb> session, CancellationToken ct)
    {
        await work(session, ct);
        return default;
    }
}
