using IngestLite.Tests.Support;
using Microsoft.Playwright;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>
/// One Chromium for every browser test. It sits in a namespace under <see cref="TestSuite"/>, so the
/// shared app host is already running when it starts and still running when it stops.
/// </summary>
[SetUpFixture]
public sealed class BrowserFixture
{
    private static IPlaywright? _playwright;
    private static IBrowser? _browser;

    public static IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    [OneTimeSetUp]
    public async Task LaunchAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await BrowserLocator.LaunchAsync(_playwright);
        TestContext.Progress.WriteLine($"Browser tests: Chromium {_browser.Version}");
    }

    [OneTimeTearDown]
    public async Task CloseAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            _browser = null;
        }

        _playwright?.Dispose();
        _playwright = null;
    }
}
