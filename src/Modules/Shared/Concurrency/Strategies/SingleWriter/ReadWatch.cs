using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>
/// Lets a SingleWriter batch see every command its DbContext sends while the batch runs, so that a unit's read behind
/// earlier units' unsaved writes is never trusted. Registered only on the contexts of modules that run SingleWriter
/// (<see cref="StrategyDefinition.ContextInterceptor"/>); a context nobody watches costs one table lookup per command.
/// </summary>
internal sealed class ReadWatch : DbCommandInterceptor
{
    public static readonly ReadWatch Instance = new();

    static readonly ConditionalWeakTable<DbContext, Action> Watched = new();

    /// <summary>Calls <paramref name="beforeCommand"/> before each command <paramref name="db"/> sends, until disposed.</summary>
    public static IDisposable Start(DbContext db, Action beforeCommand)
    {
        Watched.AddOrUpdate(db, beforeCommand);
        return new Scope(db);
    }

    sealed class Scope(DbContext db) : IDisposable
    {
        public void Dispose() => Watched.Remove(db);
    }

    static void Notify(CommandEventData data)
    {
        if (data.Context is { } db && Watched.TryGetValue(db, out var beforeCommand)) beforeCommand();
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData data, InterceptionResult<DbDataReader> result)
    {
        Notify(data);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData data,
        InterceptionResult<DbDataReader> result, CancellationToken ct = default)
    {
        Notify(data);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData data, InterceptionResult<object> result)
    {
        Notify(data);
        return result;
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData data,
        InterceptionResult<object> result, CancellationToken ct = default)
    {
        Notify(data);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData data, InterceptionResult<int> result)
    {
        Notify(data);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData data,
        InterceptionResult<int> result, CancellationToken ct = default)
    {
        Notify(data);
        return ValueTask.FromResult(result);
    }
}
