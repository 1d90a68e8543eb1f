namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// Reads the same thing through two nodes of a cluster until both return the same. A plain read on one node just
/// after a commit through another may still return the state before it, causal reads (wsrep_sync_wait = 1)
/// notwithstanding (measured: docs/scale-out.md); a check of what the cluster committed waits for that to pass.
/// </summary>
internal static class NodesAgree
{
    /// <summary>
    /// The value both nodes returned, or, if they still differ after a minute of reads 20 ms apart, the last pair: a
    /// bound for a node that diverged, not a measurement. A stale read was seen to last up to three reads, and a node
    /// that donates its state to one rejoining after a kill (another class of the suite kills one) may apply nothing
    /// for seconds. Each read that differed is reported to <paramref name="differed"/>.
    /// </summary>
    public static async Task<(T First, T Second)> ReadAsync<T>(Func<Task<T>> first, Func<Task<T>> second, Action<int, T, T> differed)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        for (var read = 1; ; read++)
        {
            var (one, two) = (await first(), await second());
            if (EqualityComparer<T>.Default.Equals(one, two) || DateTime.UtcNow > deadline) return (one, two);
            differed(read, one, two);
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// A check of what writers left, run again while it finds violations, every 200 ms for up to 10 s, and the last
    /// result. With writers on other nodes, the node checked may not have applied their last commits yet: only a read
    /// that had not caught up comes out clean later, while what was committed wrong stays wrong. On one server, a
    /// failing check costs the 10 s and reports the same.
    /// </summary>
    public static async Task<List<string>> CheckCaughtUpAsync(Func<Task<List<string>>> check)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var violations = await check();
        while (violations.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            violations = await check();
        }
        return violations;
    }
}
