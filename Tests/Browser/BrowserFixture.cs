using System.Diagnostics;
using IngestLite.Tests.Support;
using Microsoft.Playwright;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>
/// One instance of each browser for every browser test, launched the first time a test asks for it
/// (a run filtered to one browser never starts the other) and closed at the end of the run. It sits in
/// a namespace under <see cref="TestSuite"/>, so the shared app host is already running when a browser
/// starts and still running when it stops. A browser that cannot be launched fails each of its tests
/// with the reason; it is not retried per test.
/// </summary>
[SetUpFixture]
public sealed class BrowserFixture
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Task<IBrowser>> Launches = [];
    private static Task<IPlaywright>? _playwright;

    /// <summary>The shared instance of <paramref name="browser"/> (one of <see cref="BrowserLocator.All"/>), launched on first use.</summary>
    public static Task<IBrowser> BrowserAsync(string browser)
    {
        lock (Gate)
        {
            if (!Launches.TryGetValue(browser, out var launch))
            {
                _playwright ??= Playwright.CreateAsync();
                launch = LaunchAsync(_playwright, browser);
                Launches[browser] = launch;
            }

            return launch;
        }
    }

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        List<Task<IBrowser>> launches;
        Task<IPlaywright>? playwright;
        lock (Gate)
        {
            launches = [.. Launches.Values];
            Launches.Clear();
            playwright = _playwright;
            _playwright = null;
        }

        foreach (var launch in launches.Where(l => l.IsCompletedSuccessfully))
        {
            await launch.Result.CloseAsync();
        }

        if (playwright is { IsCompletedSuccessfully: true })
        {
            playwright.Result.Dispose();
        }
    }

    private static async Task<IBrowser> LaunchAsync(Task<IPlaywright> playwright, string browser)
    {
        var clock = Stopwatch.StartNew();
        var launched = await BrowserLocator.LaunchAsync(await playwright, browser);
        TestContext.Progress.WriteLine($"Browser tests: {browser} {launched.Version} (launched in {clock.Elapsed.TotalSeconds:F1} s)");
        return launched;
    }
}
