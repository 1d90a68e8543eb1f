using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Ledger.Persistence;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Tests.Concurrency.Ledger;
using Monolith.Tests.Concurrency.Trading;
using Xunit.Abstractions;

namespace Monolith.Tests.Cluster;

/// <summary>
/// Why the cluster profile refuses SerializableRetry and SingleWriter: run anyway (the suite's switch), the anomaly each
/// was refused for shows up. SerializableRetry's depends on the timing of the other node's applier, so its scenario
/// runs up to <see cref="Tries"/> times while other writers keep the appliers busy, and must occur at least once.
/// Balances are read once both nodes agree: a plain read on one node just after a commit through the other may still
/// see the state before it (docs/scale-out.md). Read at once, such reads once made SingleWriter look as if it lost a
/// deposit across nodes, and the profile refused it for a lost update that never happened; what it is refused for now
/// is below.
/// </summary>
public sealed class RefusedStrategyTests(ClusterDatabase cluster, ITestOutputHelper output) : IClassFixture<ClusterDatabase>
{
    const int Tries = 1_000;

    [Fact]
    public async Task SerializableRetry_commits_write_skew_over_a_row_only_read_across_nodes()
    {
        var (occurred, tries) = await TryUntilAnomalyAsync(nameof(StrategyName.SerializableRetry), async (first, second) =>
        {
            // Each may go to -100 alone, but together they must stay at or above zero; each unit reads the other's
            // balance and writes only its own.
            var a = await first.OpenFundedAsync(60m, overdraftLimit: 100m);
            var b = await first.OpenFundedAsync(60m, overdraftLimit: 100m);
            await SettledBalanceAsync(first, second, a);
            await SettledBalanceAsync(first, second, b);
            await new Interleaving<LedgerDbContext>(first, output, secondServices: second).RunAsync(
                (session, pause, ct) => LedgerInterleavings.WithdrawWithinJointLimitReadingTheOtherAsync(session, debit: a, other: b, pause, ct),
                (session, pause, ct) => LedgerInterleavings.WithdrawWithinJointLimitReadingTheOtherAsync(session, debit: b, other: a, pause, ct));
            var joint = await SettledBalanceAsync(first, second, a) + await SettledBalanceAsync(first, second, b);
            return joint < 0 ? $"joint balance {joint:0.00} is below zero" : null;
        });
        Report(nameof(StrategyName.SerializableRetry), AnomalyMatrix.WriteSkewOverARowOnlyRead, occurred, tries);
        Assert.True(occurred is not null, $"no write skew in {tries} tries");
    }

    /// <summary>
    /// SingleWriter's Trading race with its workers over the three nodes, run up to ten times: it must break the Trading
    /// invariants at least once. It did in about half the runs (4 of 8 in a row here; once in a CI run).
    /// </summary>
    [Fact]
    public async Task SingleWriter_breaks_the_trading_invariants_across_nodes()
    {
        string? occurred = null;
        var tries = 0;
        while (occurred is null && tries < 10)
        {
            tries++;
            var stacks = GaleraCluster.Nodes.Select(node => cluster.Services(nameof(StrategyName.SingleWriter), node, DatabaseProfile.GaleraCluster)).ToArray();
            try
            {
                var result = await new TradingWorkload(stacks).RunAsync(new TradingWorkloadOptions(Workers: 12), seed: 11 + tries);
                output.WriteLine($"try {tries}: {result}");
                if (result.Violations.Count > 0) occurred = $"{result.Violations.Count} violations, the first: {result.Violations[0]}";
            }
            finally
            {
                foreach (var stack in stacks) await stack.DisposeAsync();
            }
        }
        var observed = occurred is null ? $"not seen in {tries} tries" : $"**occurs**: {occurred} (try {tries})";
        RaceReport.Write(nameof(StrategyName.SingleWriter), "trading on Galera, refused, run anyway", observed);
        output.WriteLine(observed);
        Assert.True(occurred is not null, $"no trading invariant broken in {tries} tries");
    }

    async Task<(string? Occurred, int Tries)> TryUntilAnomalyAsync(string strategy, Func<ServiceProvider, ServiceProvider, Task<string?>> scenario)
    {
        await using var first = cluster.Services(strategy, 1, DatabaseProfile.GaleraCluster);
        await using var second = cluster.Services(strategy, 2, DatabaseProfile.GaleraCluster);
        // The anomalies were first seen with two other classes' bank workloads (8 writers each) running on the cluster.
        await using var loadOnFirst = cluster.Services(nameof(StrategyName.PessimisticRowLock), 1, DatabaseProfile.GaleraCluster);
        await using var loadOnThird = cluster.Services(nameof(StrategyName.PessimisticRowLock), 3, DatabaseProfile.GaleraCluster);
        using var stop = new CancellationTokenSource();
        var busy = Task.WhenAll(KeepAppliersBusyAsync(loadOnFirst, stop.Token), KeepAppliersBusyAsync(loadOnThird, stop.Token));
        try
        {
            for (var i = 1; i <= Tries; i++)
                if (await scenario(first, second) is { } anomaly) return (anomaly, i);
            return (null, Tries);
        }
        finally
        {
            await stop.CancelAsync();
            await busy;
        }
    }

    /// <summary>Deposits on accounts of their own: every node applies them, between the scenario's statements.</summary>
    static async Task KeepAppliersBusyAsync(ServiceProvider services, CancellationToken stop)
    {
        var accounts = new List<Guid>();
        for (var i = 0; i < 12; i++) accounts.Add(await services.OpenFundedAsync(1m));
        await Task.WhenAll(accounts.Select(account => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await using var scope = services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new Deposit(Tester, account, 1m), CancellationToken.None);
            }
        })));
    }

    /// <summary>The balance once both nodes show the same (<see cref="NodesAgree"/>): a stale read is not a lost deposit.</summary>
    async Task<decimal> SettledBalanceAsync(ServiceProvider first, ServiceProvider second, Guid account) =>
        (await NodesAgree.ReadAsync(async () => (decimal?)await BalanceAsync(first, account), () => BalanceOrNullAsync(second, account),
            (read, one, two) => output.WriteLine($"read {read}: node 1 holds {one:0.00}, node 2 {two?.ToString("0.00") ?? "no such account yet"}"))).First!.Value;

    static async Task<decimal?> BalanceOrNullAsync(ServiceProvider services, Guid account)
    {
        try { return await BalanceAsync(services, account); }
        catch (Monolith.Shared.Errors.NotFoundException) { return null; }
    }

    static async Task<decimal> BalanceAsync(ServiceProvider services, Guid account)
    {
        await using var scope = services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new GetAccount(Tester, account))).Balance;
    }

    void Report(string strategy, string anomaly, string? occurred, int tries)
    {
        var observed = occurred is null ? $"not seen in {tries} tries" : $"**occurs**: {occurred} (try {tries})";
        output.WriteLine($"{strategy}, {anomaly}: {observed}");
        AnomalyMatrix.Record(strategy, anomaly, "Galera-refused", observed);
    }
}
