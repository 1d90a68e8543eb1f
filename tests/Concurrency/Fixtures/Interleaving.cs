using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// Runs two units through a strategy so that both have read before either writes: the first pauses after its reads
/// until the second has read too, or is seen waiting for a lock; then the first goes on, and when it is done (or is
/// itself seen waiting), the second. Only first attempts pause; re-runs go straight through. The second unit runs on
/// <paramref name="secondServices"/> when given: another stack, on another node of a cluster.
/// </summary>
internal sealed class Interleaving<TDb>(IServiceProvider services, ITestOutputHelper output, Func<Task<bool>>? waitsOutsideTheDatabase = null,
    IServiceProvider? secondServices = null)
    where TDb : ModuleDbContext
{
    public delegate Task Unit(IWriteSession<TDb> session, Func<Task> pause, CancellationToken ct);

    /// <summary>How the two units ended, whether the second was seen waiting for a lock, and how many runs conflicted.</summary>
    public sealed record Outcome(Exception? First, Exception? Second, bool SecondWaited, long Conflicts)
    {
        /// <summary>How a strategy kept the anomaly out, for the anomaly matrix.</summary>
        public string Prevention => (SecondWaited, Conflicts > 0) switch
        {
            (true, false) => "blocks",
            (true, true) => "waits, then aborts and re-runs",
            (false, true) => "aborts, re-runs",
            _ => "prevented",
        };
    }

    public async Task<Outcome> RunAsync(Unit first, Unit second)
    {
        using var counters = new ConcurrencyCounters(services.GetRequiredService<ConcurrencyMetrics>());
        using var secondCounters = secondServices is null ? null : new ConcurrencyCounters(secondServices.GetRequiredService<ConcurrencyMetrics>());
        await using var probeScope = services.CreateAsyncScope();
        var probe = probeScope.ServiceProvider.GetRequiredService<TDb>();
        var (read1, go1, read2, go2) = (new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource());

        var run1 = RunPausingAsync(services, first, read1, go1);
        var run2 = Task.CompletedTask;
        bool blocked;
        try
        {
            await Task.WhenAny(read1.Task, run1);
            run2 = RunPausingAsync(secondServices ?? services, second, read2, go2);
            blocked = await LockWaits.ArrivedOrBlockedAsync(Task.WhenAny(read2.Task, run2), probe, waitsOutsideTheDatabase);
            output.WriteLine(blocked ? "second session waited for a lock" : "second session read alongside the first");

            go1.SetResult();
            var firstWaited = await LockWaits.ArrivedOrBlockedAsync(run1.ContinueWith(_ => { }), probe);
            output.WriteLine(firstWaited ? "first session waited for a lock; the second goes on" : "first session done; the second goes on");
        }
        finally
        {
            // Whatever happened, no session stays paused holding locks into the next test.
            go1.TrySetResult();
            go2.TrySetResult();
        }
        var outcome = new Outcome(await CaptureAsync(run1), await CaptureAsync(run2), blocked, counters.Conflicts + (secondCounters?.Conflicts ?? 0));
        if (secondCounters is not null) output.WriteLine($"conflicts re-run: {counters.Conflicts} on the first stack, {secondCounters.Conflicts} on the second");
        // A unit that failed is part of the outcome a test judges; its error belongs in the test's output.
        if (outcome.First is { } firstError) output.WriteLine($"first unit failed: {firstError.GetType().Name}: {firstError.Message}");
        if (outcome.Second is { } secondError) output.WriteLine($"second unit failed: {secondError.GetType().Name}: {secondError.Message}");
        return outcome;
    }

    static async Task RunPausingAsync(IServiceProvider services, Unit unit, TaskCompletionSource read, TaskCompletionSource go)
    {
        await Task.Yield();
        await using var scope = services.CreateAsyncScope();
        var strategy = scope.ServiceProvider.GetRequiredService<IConcurrencyStrategy<TDb>>();
        var paused = false;
        Task Pause()
        {
            if (paused) return Task.CompletedTask;
            paused = true;
            read.TrySetResult();
            return go.Task;
        }
        await strategy.ExecuteAsync(async (session, ct) => { await unit(session, Pause, ct); return true; }, CancellationToken.None);
    }

    static async Task<Exception?> CaptureAsync(Task task)
    {
        try { await task; return null; }
        catch (Exception e) { return e; }
    }
}
