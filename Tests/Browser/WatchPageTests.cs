using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IngestLite.Tests.Support;
using IngestLite.Tests.Support.Pages;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>A watched folder followed live on the ingest page, in a real browser.</summary>
[TestFixtureSource(typeof(BrowserTest), nameof(Browsers))]
public sealed class WatchPageTests(string browser) : BrowserTest(browser)
{
    private sealed record FilesText(double At, string Session, string Text, double UpdatedAt);

    /// <summary>The suite's Watch:StabilityPeriod.</summary>
    private const double StabilityMs = 300;

    [Test]
    public async Task Files_written_over_20_s_reach_the_page_within_the_stability_period_plus_1_s_at_p95()
    {
        const int Files = 200;
        await Context.AddInitScriptAsync(PageProbes.Recorder);
        var folder = "watched-" + Guid.NewGuid().ToString("N")[..8];
        var full = Path.Combine(App.MediaRoot, folder);
        Directory.CreateDirectory(full);
        string watchId, sessionId;
        using (var created = await Http.PostAsJsonAsync("api/watch", new { directory = folder }))
        {
            var body = IngestClient.Parse(await created.Content.ReadAsStringAsync());
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), body.ToJsonString());
            (watchId, sessionId) = (body["watch_id"]!.GetValue<string>(), body["session_id"]!.GetValue<string>());
        }

        try
        {
            var page = new IngestPage(await Context.NewPageAsync());
            await page.GotoAsync(path: $"/?session={sessionId}");
            await Expect(page.Page.Locator(IngestPage.Selectors.LivePanel)).ToHaveAttributeAsync("data-session", sessionId);
            await Expect(page.Page.Locator(IngestPage.Selectors.LivePanel)).ToHaveAttributeAsync("data-status", "watching");
            await Expect(page.Badge).ToHaveTextAsync("LIVE");

            // One file every 100 ms, each written whole and closed; the time it was closed, on the wall clock the page's probe also reads.
            var closed = new double[Files];
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Files; i++)
            {
                MediaFactory.WritePng(Path.Combine(full, $"gen-{i:D3}.png"), 16, 16, null, seed: (byte)i);
                closed[i] = (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;
                var next = TimeSpan.FromMilliseconds(100 * (i + 1)) - clock.Elapsed;
                if (next > TimeSpan.Zero)
                {
                    await Task.Delay(next);
                }
            }

            await Expect(page.Page.Locator(IngestPage.Selectors.ProgressFiles)).ToHaveTextAsync($"{Files} / {Files} files", new() { Timeout = 60_000 });

            // The k-th count on screen is the k-th file done: files are handed over in the order they became still.
            var shown = (await page.Page.EvaluateAsync<JsonElement>("() => window.__probe.files")).Deserialize<List<FilesText>>(IngestClient.Json)!
                .Where(f => f.Session == sessionId).ToList();
            var latencies = new List<double>();
            for (var k = 1; k <= Files; k++)
            {
                var at = shown.First(f => int.Parse(f.Text.Split(' ')[0]) >= k).At;
                latencies.Add(at - closed[k - 1]);
            }

            latencies.Sort();
            double P(double q) => latencies[Math.Clamp((int)Math.Ceiling(q * latencies.Count) - 1, 0, latencies.Count - 1)];
            TestContext.Out.WriteLine($"{BrowserName}: file closed → count on the page, {Files} files over {clock.Elapsed.TotalSeconds:F1} s: " +
                $"p50 {P(0.5):F0} ms, p95 {P(0.95):F0} ms, max {latencies[^1]:F0} ms (stability period {StabilityMs:F0} ms)");
            Assert.That(P(0.95), Is.LessThanOrEqualTo(StabilityMs + 1000), "p95 within the stability period plus 1 s");
            Assert.That(latencies[0], Is.GreaterThanOrEqualTo(StabilityMs - 50), "no file is taken before it has been still for the stability period");

            var catalog = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={folder}&limit=500"));
            Assert.That(IngestClient.Int(catalog, "count"), Is.EqualTo(Files));

            // The page lists the watch, its folder as text, and stops it.
            await page.Page.ReloadAsync();
            var row = page.Page.Locator($"#watch-{watchId}");
            await Expect(row.Locator(".watch-open")).ToHaveTextAsync(folder);
            await Expect(row.Locator(".watch-mode")).ToContainTextAsync("watching: file events");
            await row.Locator(".watch-stop").ClickAsync();
            await Expect(row).ToHaveCountAsync(0);
            var status = await Api.StatusAsync(sessionId);
            Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        }
        finally
        {
            using var _ = await Http.DeleteAsync($"api/watch/{watchId}");
        }
    }
}
