using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// Appends each race run's figures to artifacts/race-report-&lt;provider&gt;.txt, which ./dev test prints at the
/// end: the workers, operations, conflicts and re-runs per strategy.
/// </summary>
internal static class RaceReport
{
    static readonly Lock Gate = new();

    public static void Write(string strategy, string scenario, string figures) =>
        Append($"race-report-{DatabaseProvider.Current}.txt", $"{DatabaseProvider.Current,-10} {strategy,-22} {scenario}: {figures}");

    /// <summary>Appends a line to a file in the checkout's artifacts folder; nothing when the tests run outside a checkout.</summary>
    public static void Append(string fileName, string line)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Monolith.sln"))) root = root.Parent;
        if (root is null) return;
        lock (Gate) File.AppendAllText(Path.Combine(root.FullName, "artifacts", fileName), line + Environment.NewLine);
    }
}
