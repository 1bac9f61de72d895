using System.Text.Json;
using IngestLite.Tests.Support;
using IngestLite.Tests.Support.Pages;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>
/// The browser APIs the ingest page builds on, in each browser: which ones this browser offers on the
/// app's origin, and that without Web Locks (a non-secure origin, or an older browser) the page still
/// works, one stream per tab, as the README says.
/// </summary>
[TestFixtureSource(typeof(BrowserTest), nameof(Browsers))]
public sealed class BrowserFeatureTests(string browser) : BrowserTest(browser)
{
    /// <summary>A browser without Web Locks: what every browser is on a plain-HTTP origin other than loopback.</summary>
    private const string NoWebLocks = "delete Navigator.prototype.locks;";

    [Test]
    public async Task The_page_gets_EventSource_BroadcastChannel_and_Web_Locks_on_the_apps_origin()
    {
        var page = await OpenIngestPageAsync();
        var features = await page.Page.EvaluateAsync<JsonElement>(
            "() => ({ secure: window.isSecureContext, eventSource: typeof EventSource, channel: typeof BroadcastChannel, locks: typeof navigator.locks?.request })");
        TestContext.Out.WriteLine($"{BrowserName}: {string.Join(", ", features.EnumerateObject().Where(p => !p.Name.StartsWith('$')).Select(p => $"{p.Name} {p.Value}"))}");

        Assert.Multiple(() =>
        {
            // http://127.0.0.1 is a secure context; Web Locks exist only in one.
            Assert.That(features.GetProperty("secure").GetBoolean(), Is.True, "the app's loopback origin is a secure context");
            Assert.That(features.GetProperty("eventSource").GetString(), Is.EqualTo("function"), "EventSource");
            Assert.That(features.GetProperty("channel").GetString(), Is.EqualTo("function"), "BroadcastChannel");
            Assert.That(features.GetProperty("locks").GetString(), Is.EqualTo("function"), "navigator.locks");
        });
        await Expect(page.Badge).ToHaveTextAsync("LIVE");
    }

    [Test]
    public async Task Without_Web_Locks_each_tab_follows_the_run_on_its_own_stream()
    {
        await Context.AddInitScriptAsync(NoWebLocks);
        var folder = NewFolder(3);
        var tabs = new List<IngestPage> { await OpenIngestPageAsync(), await OpenIngestPageAsync() };
        Assert.That(await tabs[0].Page.EvaluateAsync<bool>("() => navigator.locks === undefined"), Is.True, "the init script should remove Web Locks");

        // The run waits at the gate before its first file until both tabs have shown it in progress.
        App.Gate.Hold();
        var id = await Api.StartAsync(new { directory = folder });
        await App.Gate.WaitUntilParkedAsync();
        foreach (var tab in tabs)
        {
            await Expect(tab.LivePanel).ToHaveAttributeAsync("data-session", id);
            await Expect(tab.LivePanel).ToHaveAttributeAsync("data-status", "processing");
            await Expect(tab.Badge).ToHaveTextAsync("LIVE");
        }

        Assert.That(await OpenStreamsAsync(expected: 2), Is.EqualTo(2), "without a leader, each of the two tabs holds its own stream");

        App.Gate.Open();
        foreach (var tab in tabs)
        {
            await tab.WaitForFinalAsync("completed");
            Assert.That((await tab.ReadAsync()).Committed, Is.EqualTo(3));
        }
    }

    /// <summary>The open streams once they reach <paramref name="expected"/>, or after 5 s (a closed stream is released when the server notices).</summary>
    private async Task<int> OpenStreamsAsync(int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        int open;
        while ((open = IngestClient.Int(IngestClient.Parse(await Http.GetStringAsync("api/ingest/metrics")), "open_streams")) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        return open;
    }
}
