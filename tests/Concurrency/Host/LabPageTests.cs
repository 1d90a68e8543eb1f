using Microsoft.Playwright;
using Monolith.Lab;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;
using Xunit.Abstractions;

namespace Monolith.Tests.Concurrency.Host;

/// <summary>
/// The lab page in a real browser: Debian's Chromium, driven by Playwright (no browser can be downloaded here), against
/// a Host process. A short race of two strategies draws its charts, a second start is refused while it runs, and the
/// invariant panel passes. The screenshot goes to artifacts/lab-&lt;provider&gt;.png (docs/lab.md shows one).
/// </summary>
public sealed class LabPageTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task A_race_of_two_strategies_draws_live_charts_refuses_a_second_start_and_passes_its_invariants()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./dev test installs Debian's chromium package");
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string> { ["ConnectionStrings:Monolith"] = database.ConnectionString });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // --no-sandbox: the suite runs as root. The rest keep Chromium off a network this machine does not have.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var problems = new List<string>();
        // Script errors fail the test; the browser's own line for the refused start (a 409 it fetched) does not.
        page.Console += (_, message) => { if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource")) problems.Add(message.Text); };
        page.PageError += (_, error) => problems.Add(error);

        await page.GotoAsync(new Uri(host.BaseAddress, "/lab").ToString());
        await page.FillAsync("#token", TokenFor(Tester)); // an operator's, as ./dev run prints one
        await page.DispatchEventAsync("#token", "change");
        await page.WaitForSelectorAsync("input[name=strategy][value=PessimisticRowLock]:checked");
        Assert.Equal(2, await page.Locator("input[name=strategy]:checked").CountAsync()); // the first two, PessimisticRowLock and OptimisticCas
        await page.FillAsync("#hotSet", "4");
        await page.FillAsync("#workers", "8");
        await page.FillAsync("#duration", "8");
        await page.ClickAsync("#go");

        // Live: points arrive while the run is still going, once a second.
        await page.WaitForFunctionAsync("() => +document.getElementById('charts').dataset.points >= 2", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Contains("running", await page.InnerTextAsync("#status"));

        await page.ClickAsync("#go");
        await page.WaitForFunctionAsync("() => document.getElementById('message').textContent.length > 0");
        var refusal = await page.InnerTextAsync("#message");
        output.WriteLine(refusal);
        Assert.Contains("A lab run is in progress", refusal);
        Assert.Contains("runs go one at a time", refusal);

        await page.WaitForFunctionAsync("() => document.getElementById('invariants').dataset.state !== 'none'", null, new PageWaitForFunctionOptions { Timeout = 120_000 });
        var invariants = await page.InnerTextAsync("#invariants");
        output.WriteLine(invariants);
        output.WriteLine(await page.InnerTextAsync("#legend"));
        Assert.Equal("pass", await page.GetAttributeAsync("#invariants", "data-state"));
        // The refusal spoke of this run while it went; it leaves with it.
        Assert.Equal("", await page.InnerTextAsync("#message"));
        foreach (var strategy in new[] { "PessimisticRowLock", "OptimisticCas" })
            foreach (var invariant in new[] { "conservation", LedgerScratch.BalancesAgree })
                Assert.Contains($"{strategy}\t{invariant}\tpass", invariants);
        Assert.True(int.Parse((await page.GetAttributeAsync("#charts", "data-points"))!) >= 6, "fewer points than seconds raced");

        var screenshot = Path.Combine(HostProcess.RepositoryRoot(), "artifacts", $"lab-{DatabaseProvider.Current}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine($"screenshot: {screenshot}");
        Assert.Empty(problems);
    }
}
