using System.Diagnostics;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Concurrency.Strategies;

/// <summary>A queued unit of work: taken by its writer once, or abandoned by its caller before that.</summary>
internal abstract class QueuedUnit(WriteKeys keys, System.Reflection.MethodInfo kind)
{
    const int Queued = 0, Taken = 1, Abandoned = 2;
    int _state;

    public WriteKeys Keys { get; } = keys;

    /// <summary>The handler's unit code, the same for every unit that handler sends: what the writer learns about (does it read the database?).</summary>
    public System.Reflection.MethodInfo Kind { get; } = kind;

    public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>The caller's span: the unit runs on the writer's task, and its attempts' spans go under the caller's command.</summary>
    public ActivityContext CallerSpan { get; } = Activity.Current?.Context ?? default;

    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;
    protected bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Queued) == Queued;

    /// <summary>Runs inside the batch's transaction. A refusal of the unit's own is kept for the caller; a database failure is thrown.</summary>
    public abstract Task RunInBatchAsync<TDb>(BatchSession<TDb> session, CancellationToken ct) where TDb : ModuleDbContext;

    /// <summary>Runs in a transaction of its own, re-run on conflicts like any strategy's unit, and answers the caller.</summary>
    public abstract Task RunAloneAsync<TDb>(BatchSession<TDb> session) where TDb : ModuleDbContext;

    public abstract void Refuse(Exception refusal);

    /// <summary>Answers the caller after the batch committed: its result, or its own refusal.</summary>
    public abstract void Answer();

    public abstract void Fail(Exception failure);
}

internal sealed class QueuedUnit<TResult>(WriteKeys keys, System.Reflection.MethodInfo kind, Delegate work) : QueuedUnit(keys, kind)
{
    readonly TaskCompletionSource<TResult> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    TResult? _result;
    Exception? _refusal;

    public Task<TResult> Outcome => _outcome.Task;

    public void Abandon(CancellationToken ct)
    {
        if (TryAbandon()) _outcome.TrySetCanceled(ct);
    }

    public override async Task RunInBatchAsync<TDb>(BatchSession<TDb> session, CancellationToken ct)
    {
        (_result, _refusal) = (default, null);
        _result = await ((UnitOfWork<TDb, TResult>)work)(session, ct);
    }

    public override async Task RunAloneAsync<TDb>(BatchSession<TDb> session)
    {
        try
        {
            var result = await session.RunAloneAsync(Keys, (UnitOfWork<TDb, TResult>)work, CallerSpan);
            session.CommittedAlone();
            _outcome.TrySetResult(result);
        }
        catch (Exception e) { _outcome.TrySetException(e); }
    }

    public override void Refuse(Exception refusal) => (_result, _refusal) = (default, refusal);

    public override void Answer()
    {
        if (_refusal is null) _outcome.TrySetResult(_result!);
        else _outcome.TrySetException(_refusal);
    }

    public override void Fail(Exception failure) => _outcome.TrySetException(failure);
}
