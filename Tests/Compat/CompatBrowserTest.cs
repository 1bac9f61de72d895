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
public abstract class CompatBrowserTest(string browser)
{
    private readonly Lock _lock = new();
    private readonly List<string> _pageErrors = [];
    private readonly List<string> _consoleErrors = [];
    private readonly List<string> _dialogs = [];
    private readonly List<(DateTime At, string Method, string Url)> _requests = [];
    private readonly List<(string Method, string Url, int Status)> _responses = [];

    protected static AppHost App => CompatSuite.App;

    protected string BrowserName { get; } = browser;

    protected bool IsFirefox => BrowserName == BrowserLocator.Firefox;

    protected IBrowserContext Context { get; private set; } = null!;

    protected HttpClient Http { get; private set; } = null!;

    protected IngestClient Api { get; private set; } = null!;

    /// <summary>The app's origin without the trailing slash, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    protected string Origin => App.BaseAddress.GetLeftPart(UriPartial.Authority);

    [SetUp]
    public async Task OpenContextAsync()
    {
        lock (_lock)
        {
            _pageErrors.Clear();
            _consoleErrors.Clear();
            _dialogs.Clear();
            _requests.Clear();
            _responses.Clear();
        }

        Context = null!;
        var launched = await BrowserFixture.BrowserAsync(BrowserName);
        Http = App.CreateRealClient();
        Api = new IngestClient(Http);
        Context = await launched.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = App.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1360, Height = 1000 },
        });
        Context.SetDefaultTimeout(15_000);
        Context.Page += (_, page) => WatchPage(page);
        await Context.Tracing.StartAsync(new TracingStartOptions { Title = TestContext.CurrentContext.Test.Name, Snapshots = true });
    }

    [TearDown]
    public async Task CloseContextAsync()
    {
        if (Context is null)
        {
            // The browser did not start: SetUp has already failed the test with the reason.
            return;
        }

        try
        {
            if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed || _pageErrors.Count > 0)
            {
                await SaveFailureArtifactsAsync();
            }
            else
            {
                await Context.Tracing.StopAsync();
            }

            await Context.CloseAsync();
        }
        finally
        {
            App.SetSetting("Ingest:MaxFilesPerSecond", null);
            App.Gate.Open();
            await CancelRunningSessionsAsync();
            Http.Dispose();
        }

        Assert.That(_pageErrors, Is.Empty, "uncaught errors in the page");
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
                   $"{Environment.NewLine}  dialogs: [{string.Join("; ", _dialogs)}]" +
                   $"{Environment.NewLine}  console errors: [{string.Join("; ", _consoleErrors.Take(10))}]";
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

    private void WatchPage(IPage page)
    {
        page.PageError += (_, error) =>
        {
            lock (_lock)
            {
                (IsFirefox && IsFirefoxDiagnostic(error) ? _consoleErrors : _pageErrors).Add(error);
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_lock)
                {
                    _consoleErrors.Add(message.Text);
                }
            }
        };
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

    /// <summary>Firefox's own network diagnostics arrive as page errors over WebDriver BiDi (see <see cref="BrowserTest"/>); they are not the page's.</summary>
    private static bool IsFirefoxDiagnostic(string error) =>
        error.StartsWith("Firefox can’t establish a connection to the server at ", StringComparison.Ordinal);

    private async Task SaveFailureArtifactsAsync()
    {
        Directory.CreateDirectory(BrowserTest.ArtifactsDirectory);
        var name = string.Concat(TestContext.CurrentContext.Test.Name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        var stem = Path.Combine(BrowserTest.ArtifactsDirectory, $"{BrowserName}-compat-{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        try
        {
            await Context.Tracing.StopAsync(new TracingStopOptions { Path = stem + "-trace.zip" });
            TestContext.Out.WriteLine($"failure trace: {stem}-trace.zip");
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            TestContext.Out.WriteLine($"no trace: {ex.Message.Split('\n')[0]}");
        }

        var index = 0;
        foreach (var page in Context.Pages)
        {
            var path = $"{stem}-tab{index++}.png";
            try
            {
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Timeout = 5_000 });
                TestContext.Out.WriteLine($"failure screenshot: {path}");
            }
            catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
            {
                TestContext.Out.WriteLine($"no screenshot of tab {index - 1}: {ex.Message.Split('\n')[0]}");
            }
        }

        TestContext.Out.WriteLine($"page errors: [{string.Join("; ", _pageErrors)}]{Observed()}");
    }

    private async Task CancelRunningSessionsAsync()
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if ((await ActiveSessionAsync())["session_id"]?.GetValue<string>() is not { } id ||
                (await Api.StatusAsync(id))["status"]?.GetValue<string>() is not ("starting" or "processing"))
            {
                return;
            }

            using (await Http.PostAsync($"api/ingest/cancel/{id}", null))
            {
            }

            await Api.WaitForEndAsync(id, TimeSpan.FromSeconds(10));
        }
    }
}
