using System.Text.Json.Nodes;
using IngestLite.Tests.Integration.Browser;
using IngestLite.Tests.Support;
using Microsoft.Playwright;
using NUnit.Framework.Interfaces;

namespace IngestLite.Tests.Compat;

/// <summary>
/// Base of the browser tests that run upstream's clients against <see cref="CompatSuite.App"/>: like
/// <see cref="BrowserTest"/> (a traced context per test, per browser, artifacts on failure, uncaught page
/// errors fail the test), but on the compat host, and it records what a user would notice: dialogs
/// (<c>alert</c>), and every request and response on the app's origin, so a test can name the 404 behind a
/// step that never happened.
/// </summary>
public abstract class CompatBrowserTest(string browser) : BrowserTest(browser)
{
    private readonly Lock _lock = new();
    private readonly List<string> _dialogs = [];
    private readonly List<(DateTime At, string Method, string Url)> _requests = [];
    private readonly List<(string Method, string Url, int Status)> _responses = [];

    protected override AppHost App => CompatSuite.App;

    protected string Origin => App.BaseAddress.GetLeftPart(UriPartial.Authority);

    [SetUp]
    public void ForgetWhatTheLastTestSaw()
    {
        lock (_lock)
        {
            _dialogs.Clear();
            _requests.Clear();
            _responses.Clear();
        }
    }

    /// <summary>Requests the page made to <paramref name="path"/> on the app's origin (query ignored), in order.</summary>
    protected List<DateTime> RequestsTo(string path)
    {
        lock (_lock)
        {
            return [.. _requests.Where(r => new Uri(r.Url).AbsolutePath == path).Select(r => r.At)];
        }
    }

    /// <summary>Statuses of the responses the page got from <paramref name="path"/> on the app's origin, in order.</summary>
    protected List<int> StatusesOf(string path)
    {
        lock (_lock)
        {
            return [.. _responses.Where(r => new Uri(r.Url).AbsolutePath == path).Select(r => r.Status)];
        }
    }

    /// <summary>Every response of 400 or more from the app's origin, as "METHOD path → status".</summary>
    protected List<string> ErrorResponses()
    {
        lock (_lock)
        {
            return [.. _responses.Where(r => r.Status >= 400).Select(r => $"{r.Method} {new Uri(r.Url).PathAndQuery} → {r.Status}")];
        }
    }

    protected List<string> Dialogs()
    {
        lock (_lock)
        {
            return [.. _dialogs];
        }
    }

    /// <summary>What the page met so far, for a failure message: error responses, dialogs, console errors.</summary>
    protected string Observed()
    {
        var errors = ErrorResponses();
        lock (_lock)
        {
            var byPath = _responses
                .GroupBy(r => $"{r.Method} {new Uri(r.Url).AbsolutePath}")
                .Select(g => $"{g.Key}: {string.Join(" ", g.GroupBy(r => r.Status).Select(s => s.Count() == 1 ? $"{s.Key}" : $"{s.Key}x{s.Count()}"))}");
            return $"{Environment.NewLine}  app responses >= 400: [{string.Join("; ", errors)}]" +
                   $"{Environment.NewLine}  app responses by path: [{string.Join("; ", byPath.Take(20))}]" +
                   $"{Environment.NewLine}  dialogs: [{string.Join("; ", _dialogs)}]";
        }
    }

    /// <summary>Runs one user-visible step; if it times out, the test fails naming the step and what the page met (a 404 behind it, an alert).</summary>
    protected async Task StepAsync(string step, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            // Playwright's message: what was expected, what was found, then a call log that is left out here.
            var message = string.Join(" ", ex.Message.Split('\n').TakeWhile(line => !line.StartsWith("Call log", StringComparison.Ordinal)).Select(line => line.Trim()).Where(line => line.Length > 0));
            Assert.Fail($"step '{step}' did not happen: {message}{Observed()}");
        }
    }

    /// <summary>Polls <paramref name="expression"/> in the page until it is truthy; fails with <paramref name="what"/> and the page's observations otherwise.</summary>
    protected async Task WaitForAsync(IPage page, string what, string expression, object? arg = null, int timeoutMs = 15_000) =>
        await StepAsync(what, () => page.WaitForFunctionAsync(expression, arg, new PageWaitForFunctionOptions { Timeout = timeoutMs, PollingInterval = 50 }));

    protected async Task<JsonObject> ActiveSessionAsync() => IngestClient.Parse(await Http.GetStringAsync("api/ingest/active-session"));

    protected override string FailureDetails() => Observed() + Environment.NewLine;

    /// <summary>What the base watches, plus every dialog (dismissed) and every request and response on the app's origin.</summary>
    protected override void WatchPage(IPage page)
    {
        base.WatchPage(page);
        page.Dialog += async (_, dialog) =>
        {
            lock (_lock)
            {
                _dialogs.Add($"{dialog.Type}: {dialog.Message}");
            }

            await dialog.DismissAsync();
        };
        page.Request += (_, request) =>
        {
            if (request.Url.StartsWith(Origin + "/", StringComparison.Ordinal))
            {
                lock (_lock)
                {
                    _requests.Add((DateTime.UtcNow, request.Method, request.Url));
                }
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Url.StartsWith(Origin + "/", StringComparison.Ordinal))
            {
                lock (_lock)
                {
                    _responses.Add((response.Request.Method, response.Url, response.Status));
                }
            }
        };
    }
}
