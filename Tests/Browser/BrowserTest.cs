using System.Text.Json.Nodes;
using IngestLite.Tests.Support;
using IngestLite.Tests.Support.Pages;
using Microsoft.Playwright;
using NUnit.Framework.Interfaces;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>
/// A fresh browser context (its own profile: storage, locks, channels) per test, traced; on failure
/// a screenshot of every tab and the trace go to <c>Tests/playwright-artifacts/</c>. Afterwards the
/// throttle is reset and any run the test left going is cancelled, so the next test starts clean.
/// Every derived fixture runs once per browser (<see cref="Browsers"/>): the browser is its constructor
/// argument, and it shows in the tests' names, e.g. <c>IngestPageTests(firefox).Test_name</c>.
/// </summary>
public abstract partial class BrowserTest(string browser)
{
    /// <summary>The fixture source of every browser test class: one fixture per browser, named and categorised by it.</summary>
    public static IEnumerable<TestFixtureData> Browsers =>
        BrowserLocator.All.Select(name =>
        {
            var fixture = new TestFixtureData(name).SetArgDisplayNames(name);
            fixture.Properties.Add(NUnit.Framework.Internal.PropertyNames.Category, name);
            return fixture;
        });

    private readonly List<string> _pageErrors = [];
    private readonly List<string> _consoleErrors = [];

    /// <summary>The app the tests drive: the suite's shared host, unless a fixture brings its own.</summary>
    protected virtual AppHost App => TestSuite.App;

    /// <summary>The browser this fixture runs in: one of <see cref="BrowserLocator.All"/>.</summary>
    protected string BrowserName { get; } = browser;

    protected bool IsFirefox => BrowserName == BrowserLocator.Firefox;

    protected IBrowserContext Context { get; private set; } = null!;

    protected HttpClient Http { get; private set; } = null!;

    protected IngestClient Api { get; private set; } = null!;

    /// <summary>Where screenshots and traces go (git-ignored).</summary>
    public static string ArtifactsDirectory { get; } = Path.Combine(Repository.Root, "Tests", "playwright-artifacts");

    [SetUp]
    public async Task OpenContextAsync()
    {
        // NUnit runs every test of a fixture on one instance: start each test with no errors of the last.
        _pageErrors.Clear();
        _consoleErrors.Clear();
        // First, so a browser that cannot start fails the test before anything needs tearing down.
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
        await Context.AddInitScriptAsync(PageProbes.CspWatcher);
        await Context.Tracing.StartAsync(new TracingStartOptions { Title = TestContext.CurrentContext.Test.Name, Snapshots = true });
    }

    [TearDown]
    public async Task CloseContextAsync()
    {
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

        // An uncaught exception or a CSP violation fails the test even when the screen looked right.
        Assert.That(_pageErrors, Is.Empty, "uncaught errors or CSP violations in the page");
    }

    /// <summary>What the page's probe (<see cref="PageProbes.Recorder"/>) recorded under <paramref name="name"/>.</summary>
    protected static async Task<List<T>> ProbeAsync<T>(IngestPage page, string name)
    {
        var json = await page.Page.EvaluateAsync<System.Text.Json.JsonElement>($"() => window.__probe.{name}");
        return System.Text.Json.JsonSerializer.Deserialize<List<T>>(json, IngestClient.Json) ?? [];
    }

    /// <summary>Nearest-rank percentile of an ascending list.</summary>
    protected static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    protected async Task<IngestPage> OpenIngestPageAsync()
    {
        var page = new IngestPage(await Context.NewPageAsync());
        await page.GotoAsync();
        return page;
    }

    /// <summary>A new folder at the top of the media root holding <paramref name="count"/> small PNGs.</summary>
    protected string NewFolder(int count)
    {
        var folder = "b-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.Combine(App.MediaRoot, folder));
        for (var i = 0; i < count; i++)
        {
            MediaFactory.WritePng(Path.Combine(App.MediaRoot, folder, $"img-{i}.png"), 16, 16, null, seed: (byte)i);
        }

        return folder;
    }

    /// <summary>A new folder of <paramref name="count"/> PNGs named f00.png…, where the indexes in <paramref name="bad"/> are written broken instead.</summary>
    protected string NewFolderWithBadFiles(int count, IReadOnlyDictionary<int, Action<string>> bad)
    {
        var folder = "b-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(App.MediaRoot, folder, $"f{i:D2}.png");
            if (bad.TryGetValue(i, out var write))
            {
                write(path);
            }
            else
            {
                MediaFactory.WritePng(path, 16, 16, null, seed: (byte)i);
            }
        }

        return folder;
    }

    /// <summary>Holds every run at the gate after <paramref name="files"/> more files have started (see <see cref="TestGate"/>).</summary>
    protected void HoldAfter(int files)
    {
        App.Gate.Hold();
        App.Gate.Release(files);
    }

    protected void Throttle(int filesPerSecond) =>
        App.SetSetting("Ingest:MaxFilesPerSecond", filesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The problem detail the API gives for these parameters, asked directly.</summary>
    protected async Task<string> ApiDetailAsync(object parameters)
    {
        using var response = await Api.PostProcessAsync(parameters);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(400), body);
        return IngestClient.Parse(body)["detail"]!.GetValue<string>();
    }

    protected async Task<List<string>> SessionIdsAsync() =>
        [.. JsonNode.Parse(await Http.GetStringAsync("api/ingest/sessions?limit=1000"))!.AsArray().Select(s => s!["session_id"]!.GetValue<string>())];

    /// <summary>Saves a screenshot of the first tab (always, not only on failure) and returns its path.</summary>
    protected async Task<string> ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ArtifactsDirectory);
        var path = Path.Combine(ArtifactsDirectory, $"{BrowserName}-{name}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Out.WriteLine($"screenshot: {path}");
        return path;
    }

    /// <summary>Watches every page of the context; a fixture that records more adds to it (and calls this).</summary>
    protected virtual void WatchPage(IPage page)
    {
        page.PageError += (_, error) =>
        {
            if (IsFirefox && IsFirefoxDiagnostic(error))
            {
                _consoleErrors.Add(error);
                return;
            }

            _pageErrors.Add(error);
        };
        page.Console += (_, message) =>
        {
            if (message.Type != "error")
            {
                return;
            }

            _consoleErrors.Add(message.Text);
            // The pages run under a strict CSP: anything it blocks is a defect, even if the screen looks right.
            if ((message.Text.Contains("CSP violation", StringComparison.Ordinal) || message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
                && !DriverCode().IsMatch(message.Text))
            {
                _pageErrors.Add(message.Text);
            }
        };
    }

    /// <summary>
    /// Over WebDriver BiDi, Playwright turns every error-level message in Firefox's web console into a page
    /// error, Firefox's own diagnostics included (Chromium's go to the console). Two are expected: the
    /// network error of an EventSource whose request fails (what Chromium logs as "Failed to load
    /// resource"), and Firefox's wording of a CSP report, which <see cref="PageProbes.CspWatcher"/> has
    /// already reported with its source. Anything else, uncaught exceptions first, stays a page error.
    /// </summary>
    private static bool IsFirefoxDiagnostic(string error) =>
        error.StartsWith("Firefox can’t establish a connection to the server at ", StringComparison.Ordinal) ||
        error.StartsWith("Content-Security-Policy: ", StringComparison.Ordinal);

    /// <summary>
    /// A violation by code that ran through eval, which the page's CSP forbids its own scripts: Playwright's
    /// helpers. In Firefox every screenshot appends a <c>&lt;style&gt;</c> to sync animations, from a sandbox
    /// that the page's CSP covers (Chromium's isolated world is exempt); the style is blocked, harmlessly.
    /// Firefox names such code "&lt;page URL&gt; line N &gt; eval", and the report carries it URL-encoded.
    /// </summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"CSP violation: .* at .*(?: |%20)(?:>|%3E)(?: |%20)eval:\d+$")]
    private static partial System.Text.RegularExpressions.Regex DriverCode();

    /// <summary>The trace first (it never hangs on a stuck tab), then a screenshot of every tab; each step on its own.</summary>
    private async Task SaveFailureArtifactsAsync()
    {
        Directory.CreateDirectory(ArtifactsDirectory);
        var stem = Path.Combine(ArtifactsDirectory, $"{BrowserName}-{Sanitize(TestContext.CurrentContext.Test.Name)}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        await TryAsync("trace", async () =>
        {
            await Context.Tracing.StopAsync(new TracingStopOptions { Path = stem + "-trace.zip" });
            TestContext.Out.WriteLine($"failure trace: {stem}-trace.zip (open at https://trace.playwright.dev or with playwright.ps1 show-trace)");
        });

        var index = 0;
        foreach (var page in Context.Pages)
        {
            var path = $"{stem}-tab{index++}.png";
            await TryAsync($"screenshot of tab {index - 1}", async () =>
            {
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Timeout = 5_000 });
                TestContext.Out.WriteLine($"failure screenshot: {path}");
            });
        }

        foreach (var line in _pageErrors.Concat(_consoleErrors).Take(20))
        {
            TestContext.Out.WriteLine($"page error: {line}");
        }

        TestContext.Out.Write(FailureDetails());
    }

    /// <summary>What else a failed test's output should show (what the fixture recorded).</summary>
    protected virtual string FailureDetails() => "";

    /// <summary>Artifacts are best effort: a tab stuck loading must not hide the test's own failure.</summary>
    private static async Task TryAsync(string what, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            TestContext.Out.WriteLine($"no {what}: {ex.Message.Split('\n')[0]}");
        }
    }

    private async Task CancelRunningSessionsAsync()
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            // The active session is the newest one, finished or not: only a running one needs stopping.
            var active = IngestClient.Parse(await Http.GetStringAsync("api/ingest/active-session"));
            if (active["session_id"]?.GetValue<string>() is not { } id || active["status"]?.GetValue<string>() is not ("starting" or "processing" or "committing"))
            {
                return;
            }

            using (await Http.PostAsync($"api/ingest/cancel/{id}", null))
            {
            }

            await Api.WaitForEndAsync(id, TimeSpan.FromSeconds(10));
        }
    }

    private static string Sanitize(string name) =>
        string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
