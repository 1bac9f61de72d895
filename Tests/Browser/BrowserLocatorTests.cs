using IngestLite.Tests.Support;
using Microsoft.Playwright;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>A browser that cannot start must fail the browser tests with a reason, never skip them.</summary>
public sealed class BrowserLocatorTests
{
    [TestCase(BrowserLocator.Chromium, "Chromium", "INGESTLITE_BROWSER", "apt-get install chromium")]
    [TestCase(BrowserLocator.Firefox, "Firefox", "INGESTLITE_FIREFOX", "apt-get install firefox-esr")]
    public async Task A_missing_browser_fails_with_what_was_tried_and_how_to_install_one(string browser, string label, string variable, string install)
    {
        const string Missing = "/nonexistent/ingestlite-browser";
        using var playwright = await Playwright.CreateAsync();

        var error = Assert.ThrowsAsync<InvalidOperationException>(() => BrowserLocator.LaunchAsync(playwright, browser, [Missing]));

        Assert.That(error!.Message, Does.StartWith($"No {label} could be launched for the browser tests."));
        Assert.That(error.Message, Does.Contain(install).And.Contain(variable), "says how to get one");
        Assert.That(error.Message, Does.Contain(Missing + ":"), "names what it tried, with the reason");
    }
}
