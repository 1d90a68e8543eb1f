namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// Reads the same thing through two nodes of a cluster until both return the same. A plain read on one node just
/// after a commit through another may still return the state before it, causal reads (wsrep_sync_wait = 1)
/// notwithstanding (measured: docs/scale-out.md); a check of what the cluster committed waits for that to pass.
/// </summary>
internal static class NodesAgree
{
    /// <summary>
    /// The value both nodes returned, or, if they still differ after <paramref name="reads"/> reads 20 ms apart (a
    /// bound for a node that diverged, not a measurement: a stale read was seen to last up to three), the last pair.
    /// Each read that differed is reported to <paramref name="differed"/>.
    /// </summary>
    public static async Task<(T First, T Second)> ReadAsync<T>(Func<Task<T>> first, Func<Task<T>> second, Action<int, T, T> differed, int reads = 100)
    {
        for (var read = 1; ; read++)
        {
            var (one, two) = (await first(), await second());
            if (EqualityComparer<T>.Default.Equals(one, two) || read == reads) return (one, two);
            differed(read, one, two);
            await Task.Delay(20);
        }
    }
}
