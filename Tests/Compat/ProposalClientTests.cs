using IngestLite.Tests.Integration.Browser;
using Microsoft.Playwright;

namespace IngestLite.Tests.Compat;

/// <summary>
/// The EventSource client the redesign proposal promised (its <c>startProgressStreaming()</c>, taken verbatim
/// from the proposal at test time), and a plain EventSource nobody closes, both against the session stream.
/// The run is held at the test gate and let through file by file, so nothing here races the clock; the only
/// waits are for absences (no reconnect) and are a few seconds long.
/// </summary>
[TestFixtureSource(typeof(BrowserTest), nameof(BrowserTest.Browsers))]
public sealed class ProposalClientTests(string browser) : CompatBrowserTest(browser)
{
    private const int Files = 3;

    /// <summary>How long a client is watched for reconnects after the run ended; the server's retry hint is 1 s.</summary>
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(3);

    [Test]
    public async Task Proposal_client_verbatim_shows_each_file_then_completed_closes_and_never_reconnects()
    {
        var page = await OpenTestPageAsync("/compat/proposal.html", ProposalPage(Upstream.ProposalStreamingClient()));
        var folder = CompatSuite.NewFolder(Files);
        App.Gate.Hold();
        var id = await Api.StartAsync(new { directory = folder });
        await App.Gate.WaitUntilParkedAsync();
        var stream = $"/api/ingest/stream/{id}";

        await page.EvaluateAsync("id => { currentSessionId = id; startProgressStreaming(); }", id);
        await WaitForAsync(page, "the proposal's eventSource.onmessage hears the stream's first event (onmessage hears only events without an event: name)",
            "() => window.__seen.length > 0");
        for (var file = 1; file <= Files; file++)
        {
            App.Gate.Release(1);
            await WaitForAsync(page, $"updateProgressDisplay shows file {file} of {Files}", "n => window.__seen.some(s => s.processed_files >= n)", file);
        }

        App.Gate.Open();
        await WaitForAsync(page, "showPreviewSection() runs on 'completed'", "() => window.__previewShown === true");
        var ended = DateTime.UtcNow;
        await Task.Delay(QuietPeriod);

        var statuses = await page.EvaluateAsync<string[]>("() => window.__seen.map(s => s.status)");
        var processed = await page.EvaluateAsync<int[]>("() => window.__seen.map(s => s.processed_files)");
        var errors = await page.EvaluateAsync<string[]>("() => window.__errors");
        var closes = await page.EvaluateAsync<int>("() => window.__closes");
        var requests = RequestsTo(stream);
        TestContext.Out.WriteLine($"{BrowserName}: statuses [{string.Join(", ", statuses)}], processed [{string.Join(", ", processed)}], close() x{closes}, {requests.Count} request(s) to the stream");
        Assert.Multiple(() =>
        {
            Assert.That(statuses, Does.Contain("processing"), $"progress states reach the proposal's client; it saw [{string.Join(", ", statuses)}]");
            Assert.That(statuses[^1], Is.EqualTo("completed"), $"the last status it saw; it saw [{string.Join(", ", statuses)}]");
            Assert.That(processed, Is.Ordered, "processed_files never goes back");
            Assert.That(errors, Is.Empty, "showError() was called");
            Assert.That(closes, Is.GreaterThanOrEqualTo(1), "the client called eventSource.close() on 'completed'");
            Assert.That(requests, Has.Count.EqualTo(1),
                $"requests to {stream}: the first only, none in the {QuietPeriod.TotalSeconds} s after completion " +
                $"(seen at +{string.Join(", +", requests.Select(r => (r - ended).TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture) + " ms"))})");
            Assert.That(ErrorResponses(), Is.Empty, "no response of 400 or more from the app");
        });
    }

    [Test]
    public async Task Plain_EventSource_left_open_gets_at_most_one_reconnect_answered_204_and_ends_closed()
    {
        var page = await OpenTestPageAsync("/compat/plain.html", PlainPage);
        var folder = CompatSuite.NewFolder(2);
        App.Gate.Hold();
        var id = await Api.StartAsync(new { directory = folder });
        await App.Gate.WaitUntilParkedAsync();
        var stream = $"/api/ingest/stream/{id}";

        await page.EvaluateAsync(
            """
            id => {
              window.__es = new EventSource('/api/ingest/stream/' + id);
              window.__es.onmessage = e => window.__messages.push(JSON.parse(e.data).status);
              window.__es.onerror = () => window.__errorStates.push(window.__es.readyState);
            }
            """, id);
        await WaitForAsync(page, "the stream opens", "() => window.__es.readyState === 1");
        App.Gate.Open();
        await Api.WaitForEndAsync(id, TimeSpan.FromSeconds(30));
        await WaitForAsync(page, "the left-open EventSource ends CLOSED (readyState 2): the server refuses its reconnect",
            "() => window.__es.readyState === 2", timeoutMs: 20_000);
        await Task.Delay(QuietPeriod);

        var requests = RequestsTo(stream);
        var statuses = StatusesOf(stream);
        var messages = await page.EvaluateAsync<string[]>("() => window.__messages");
        var readyState = await page.EvaluateAsync<int>("() => window.__es.readyState");
        var errorStates = await page.EvaluateAsync<int[]>("() => window.__errorStates");
        TestContext.Out.WriteLine($"{BrowserName}: messages [{string.Join(", ", messages)}], stream responses [{string.Join(", ", statuses)}], onerror at readyState [{string.Join(", ", errorStates)}]");
        Assert.Multiple(() =>
        {
            Assert.That(requests, Has.Count.InRange(1, 2), $"requests to {stream}: the first and at most one reconnect");
            Assert.That(statuses, Has.Count.EqualTo(requests.Count), $"a response for each request to {stream}: [{string.Join(", ", statuses)}]");
            Assert.That(statuses.FirstOrDefault(), Is.EqualTo(200), "the first request is the stream");
            Assert.That(statuses.Skip(1), Is.All.EqualTo(204), $"a reconnect after the final event is answered 204 No Content: [{string.Join(", ", statuses)}]");
            Assert.That(readyState, Is.EqualTo(2), "readyState after the quiet period");
            Assert.That(messages, Is.Not.Empty.And.Contains("completed"), $"onmessage heard the final state; it heard [{string.Join(", ", messages)}]");
            Assert.That(ErrorResponses(), Is.Empty, "no response of 400 or more from the app");
        });
    }

    /// <summary>
    /// The page around the proposal's function: the globals and callbacks it expects from upstream's page, each
    /// recording what it is given, and <c>close()</c> wrapped to count calls. <c>processing_sessions</c> (a server
    /// variable the function's onerror reads) is deliberately not defined: if that branch runs, the page errs.
    /// </summary>
    private static string ProposalPage(string startProgressStreaming) =>
        $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Proposal client (compat)</title></head>
        <body>
        <script>
          window.__seen = [];
          window.__errors = [];
          window.__previewShown = false;
          window.__closes = 0;
          const closeEventSource = EventSource.prototype.close;
          EventSource.prototype.close = function () { window.__closes++; return closeEventSource.call(this); };
          var currentSessionId = null;
          function updateProgressDisplay(status) { window.__seen.push(status); }
          function showPreviewSection() { window.__previewShown = true; }
          function showError(message) { window.__errors.push(String(message)); }
        </script>
        <script>
        {{startProgressStreaming}}
        </script>
        </body></html>
        """;

    private const string PlainPage =
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Plain EventSource (compat)</title></head>
        <body><script>window.__messages = []; window.__errorStates = [];</script></body></html>
        """;

    /// <summary>Serves <paramref name="html"/> at <paramref name="path"/> on the app's own origin (so EventSource URLs are same-origin) and opens it.</summary>
    private async Task<IPage> OpenTestPageAsync(string path, string html)
    {
        var page = await Context.NewPageAsync();
        await page.RouteAsync(Origin + path, route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/html; charset=utf-8",
            Body = html,
        }));
        await page.GotoAsync(path);
        return page;
    }
}
