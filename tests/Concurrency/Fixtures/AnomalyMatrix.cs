using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// What each interleaving scenario observed, per strategy, appended to artifacts/anomalies-&lt;provider&gt;.tsv; ./dev
/// test renders both providers' files into the matrix in docs/strategies.md (bench's `matrix` command).
/// </summary>
internal static class AnomalyMatrix
{
    // Column names; Columns gives the matrix's order, recorded with each observation for the renderer.
    public const string LostUpdate = "lost update (P4)";
    public const string WriteSkew = "write skew (G2-item), both rows claimed";
    public const string WriteSkewOverARowOnlyRead = "write skew (G2-item), the other row only read";
    public const string ReadSkew = "read skew (A5A)";
    public const string PhantomBehindItsOwnerRow = "phantom, the owner row written too";
    public const string PhantomGuardedByTheRangeAlone = "phantom, the range its only guard";
    public const string DoubleApply = "double apply of one Idempotency-Key";
    public const string LostFencedWrite = "late write after a lock expired";

    static readonly string[] Columns =
        [LostUpdate, WriteSkew, WriteSkewOverARowOnlyRead, ReadSkew, PhantomBehindItsOwnerRow, PhantomGuardedByTheRangeAlone, DoubleApply, LostFencedWrite];

    public static void Record(string strategy, string anomaly, string observed) => Record(strategy, anomaly, DatabaseProvider.Current.ToString(), observed);

    /// <summary>An observation in a setting other than one server of this build's provider (a cluster): artifacts/anomalies-&lt;setting&gt;.tsv.</summary>
    public static void Record(string strategy, string anomaly, string setting, string observed) =>
        RaceReport.Append($"anomalies-{setting}.tsv",
            $"{strategy}\t{Array.IndexOf(Columns, anomaly)}\t{anomaly}\t{observed.ReplaceLineEndings(" ")}");

    /// <summary>The cell for one run: the first violation seen, or how the strategy kept the anomaly out.</summary>
    public static string Observed(IReadOnlyList<string> violations, string prevention) =>
        violations.Count > 0 ? $"**occurs**: {violations[0]}" : prevention;
}
