using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using Polly;

namespace Monolith.Shared.Concurrency;

/// <summary>
/// A strategy that protects each attempt of a unit with a <see cref="WriteSession{TDb}"/>: the session type is the
/// strategy's policy (how the transaction runs and how rows are loaded for write), and this runs it, one session per
/// attempt on a fresh DbContext, re-running the unit on the conflicts it may win. Stateless: one per module and process.
/// </summary>
public sealed class ConcurrencyStrategy<TDb> : IConcurrencyStrategy<TDb> where TDb : ModuleDbContext
{
    readonly IDbContextFactory<TDb> _contexts;
    readonly StrategyRuntime _runtime;
    readonly Func<TDb, WriteSession<TDb>> _openSession;
    readonly ResiliencePipeline _retry;
    readonly string _module;

    /// <param name="openSession">The session of one attempt, on the DbContext given, which the attempt disposes.</param>
    /// <param name="retry">How re-runs happen: the runtime's, unless a baseline in the tests runs none.</param>
    public ConcurrencyStrategy(string name, IDbContextFactory<TDb> contexts, StrategyRuntime runtime, Func<TDb, WriteSession<TDb>> openSession,
        ResiliencePipeline? retry = null)
    {
        Name = name;
        _contexts = contexts;
        _runtime = runtime;
        _openSession = openSession;
        _retry = retry ?? runtime.Retry;
        // Building a context opens no connection; it tells which module this strategy writes for.
        using var db = contexts.CreateDbContext();
        _module = db.Module;
    }

    public string Name { get; }

    public Task<TResult> ExecuteAsync<TResult>(WriteKeys keys, UnitOfWork<TDb, TResult> work, CancellationToken ct) =>
        _runtime.RunAttemptsAsync(Name, _module, _retry, async token =>
        {
            await using var db = await _contexts.CreateDbContextAsync(token);
            return await OpenSession(db, keys).RunAsync(work, token);
        }, ct);

    public Task<Guid> ExecuteOnceAsync<TCommand>(TCommand command, WriteKeys keys, UnitOfWork<TDb, Guid> write, CancellationToken ct)
        where TCommand : IIdempotentCommand
    {
        if (command.IdempotencyKey is not { } key) return ExecuteAsync(keys, write, ct);
        return _runtime.RunAttemptsAsync(Name, _module, _retry, async token =>
        {
            await using var db = await _contexts.CreateDbContextAsync(token);
            // The key is looked up before the unit's transaction, on the connection the unit then uses. Read inside a
            // REPEATABLE READ or SERIALIZABLE transaction, a missing key locks the stretch of the index where it
            // belongs (an InnoDB gap lock, a PostgreSQL predicate lock); keys sent in order, counters or UUIDv7, all
            // belong at the end, so every such unit conflicts with every other one's insert of its key (measured:
            // docs/benchmarks.md). Read before, it locks nothing; a twin sent at the same time still meets the
            // unique index, and its re-run finds the key.
            await db.Database.OpenConnectionAsync(token);
            if (await IdempotencyRecord.FindAsync(db, command.Caller.Subject, key, token) is { } stored) return stored.Replay(command);
            var session = OpenSession(db, keys);
            return await session.RunAsync((_, t) => session.WriteOnceAsync(command, () => write(session, t)), token);
        }, ct);
    }

    /// <summary>The session of one attempt of a unit, on <paramref name="db"/>.</summary>
    WriteSession<TDb> OpenSession(TDb db, WriteKeys keys)
    {
        var session = _openSession(db);
        session.DeclaredKeys = keys;
        return session;
    }
}

/// <summary>What all strategies of the application share: options, the retry pipeline, metrics, a logger.</summary>
public sealed class StrategyRuntime
{
    public StrategyRuntime(ConcurrencyOptions options, DatabaseProfile profile, ConcurrencyMetrics metrics, ILogger<StrategyRuntime> logger)
    {
        Options = options;
        Profile = profile;
        Metrics = metrics;
        Logger = logger;
        Retry = new ResiliencePipelineBuilder()
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(Conflicts.IsRetryable),
                MaxRetryAttempts = Math.Max(0, options.MaxAttempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    logger.LogDebug("Conflict {Reason} on attempt {Attempt}, re-running in {Delay}: {Message}",
                        args.Outcome.Exception is { } e ? Conflicts.Reason(e) : null, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message);
                    return default;
                },
            })
            .Build();
    }

    public ConcurrencyOptions Options { get; }
    public DatabaseProfile Profile { get; }
    public ConcurrencyMetrics Metrics { get; }
    public ILogger Logger { get; }
    public ResiliencePipeline Retry { get; }

    /// <summary>
    /// Runs <paramref name="attempt"/> under <paramref name="retry"/>, counting attempts and conflicts: a conflict left
    /// when the attempts run out is contention (409), and a constraint that still fires is a rule that raced past its
    /// check (422).
    /// </summary>
    internal async Task<TResult> RunAttemptsAsync<TResult>(string strategy, string module, ResiliencePipeline retry,
        Func<CancellationToken, Task<TResult>> attempt, CancellationToken ct, ActivityContext parentSpan = default)
    {
        var attempts = 0;
        try
        {
            return await retry.ExecuteAsync(async token =>
            {
                attempts++;
                Metrics.Attempted(strategy, module);
                using var span = Telemetry.StartAttempt(strategy, module, attempts, parentSpan);
                try
                {
                    var result = await attempt(token);
                    span.Ended(null);
                    return result;
                }
                catch (Exception e)
                {
                    span.Ended(e);
                    if (Conflicts.IsRetryable(e)) Metrics.Conflicted(strategy, module, Conflicts.Reason(e));
                    throw;
                }
            }, ct);
        }
        catch (Exception e) when (Conflicts.IsRetryable(e))
        {
            Metrics.GaveUp(strategy, module);
            Logger.LogWarning("{Strategy} gave up on a {Module} unit after {Attempts} attempts, last conflict {Reason}: {Message}",
                strategy, module, attempts, Conflicts.Reason(e), e.Message);
            throw new ContentionException(strategy, attempts, e);
        }
        catch (Exception e) when (DatabaseProvider.Classify(e) == FailureKind.ConstraintViolated)
        {
            // The handler checks every rule first; a constraint that still fires means a rule raced past it. The
            // database's text names tables and columns: it goes to the log, and the caller gets a plain refusal.
            Logger.LogWarning("A {Module} unit under {Strategy} was refused by a constraint: {Message}", module, strategy, (e.InnerException ?? e).Message);
            throw new BusinessRuleException("Constraint violated", "The database refused the change, which breaks one of its rules; nothing was written.");
        }
    }
}
