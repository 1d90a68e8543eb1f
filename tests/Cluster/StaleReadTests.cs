using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Monolith.Trading.Domain;
using Monolith.Trading.Features;
using Xunit.Abstractions;

namespace Monolith.Tests.Cluster;

/// <summary>
/// Read your writes across nodes. An order is placed through node 1 and read at once through node 2, twice at the same
/// time: through a stack under the cluster profile, which confirms a 404 before answering it (ConfirmNotFoundBehavior),
/// and through one under the single-server profile, which answers what its first read found. While other writers keep
/// the appliers busy the second must miss some orders (else the case was not exercised) and the first none.
/// </summary>
public sealed class StaleReadTests(ClusterDatabase cluster, ITestOutputHelper output) : IClassFixture<ClusterDatabase>
{
    const int MaxTries = 3_000, EnoughMisses = 3, Placers = 6;

    [Fact]
    public async Task An_order_placed_through_one_node_is_found_through_another_at_once()
    {
        const string strategy = nameof(StrategyName.PessimisticRowLock);
        await using var writer = cluster.Services(strategy, 1, DatabaseProfile.GaleraCluster);
        await using var confirming = cluster.Services(strategy, 2, DatabaseProfile.GaleraCluster);
        await using var answeringAtOnce = cluster.Services(strategy, 2, DatabaseProfile.SingleServer);
        await using var loadOnFirst = cluster.Services(strategy, 1, DatabaseProfile.GaleraCluster);
        await using var loadOnThird = cluster.Services(strategy, 3, DatabaseProfile.GaleraCluster);
        var account = (await SendAsync(writer, new OpenTradingAccount(Tester, 1_000_000m, 100m))).Id;

        using var stop = new CancellationTokenSource();
        var busy = Task.WhenAll(GaleraCluster.KeepAppliersBusyAsync(loadOnFirst, stop.Token), GaleraCluster.KeepAppliersBusyAsync(loadOnThird, stop.Token));
        int tries = 0, missedAtOnce = 0, missedConfirming = 0;
        try
        {
            // Several placers at once: more of node 2's applies in flight, so more reads that come too early.
            await Task.WhenAll(Enumerable.Range(0, Placers).Select(_ => Task.Run(async () =>
            {
                while (Volatile.Read(ref missedAtOnce) < EnoughMisses && Interlocked.Increment(ref tries) <= MaxTries)
                {
                    var order = await SendAsync(writer, new PlaceOrder(Tester, account, "ACME", OrderSide.Buy, 1, 100m, "stale-read", null, null));
                    var found = await Task.WhenAll(FoundAsync(confirming, order.Id), FoundAsync(answeringAtOnce, order.Id));
                    if (!found[0]) Interlocked.Increment(ref missedConfirming);
                    if (!found[1]) Interlocked.Increment(ref missedAtOnce);
                }
            })));
        }
        finally
        {
            await stop.CancelAsync();
            await busy;
        }
        tries = Math.Min(tries, MaxTries);

        var observed = $"{tries} orders placed through node 1 and read at once through node 2: {missedAtOnce} not found by the first read, " +
                       $"{missedConfirming} not found with the 404 confirmed";
        output.WriteLine(observed);
        RaceReport.Write(strategy, "read your writes on Galera", observed);
        Assert.True(missedAtOnce > 0, $"no read through node 2 missed its order in {tries} tries: the stale read was not exercised");
        Assert.Equal(0, missedConfirming);
    }

    static async Task<bool> FoundAsync(ServiceProvider services, Guid order)
    {
        try
        {
            await SendAsync(services, new GetOrder(Tester, order));
            return true;
        }
        catch (NotFoundException) { return false; }
    }

    static async Task<T> SendAsync<T>(ServiceProvider services, IRequest<T> request)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }
}
