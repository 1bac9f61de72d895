using System.Text.RegularExpressions;
using IngestLite.Tests.Support;
using IngestLite.Tests.Support.Pages;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>The catalog page, and the rules every page follows (no inline script or style, no HTML from data).</summary>
[TestFixtureSource(typeof(BrowserTest), nameof(Browsers))]
public sealed partial class CatalogPageTests(string browser) : BrowserTest(browser)
{
    [Test]
    public async Task Catalog_search_is_a_shareable_link_and_shows_untrusted_text_as_text()
    {
        var folder = "b-" + Guid.NewGuid().ToString("N")[..8];
        var word = "zq" + Guid.NewGuid().ToString("N")[..6];
        const string Hostile = "<img src=x id=injected>";
        var file = $"{folder}/{word}-fox.png";
        MediaFactory.WritePng(Path.Combine(App.MediaRoot, file), 24, 16,
            [("parameters", MediaFactory.A1111Parameters($"{word}, a red fox, {Hostile}"))], seed: 7);
        var id = await Api.StartAsync(new { directory = folder });
        await Api.WaitForEndAsync(id);

        var page = new CatalogPage(await Context.NewPageAsync());
        await page.GotoAsync(word);
        await Expect(page.Query).ToHaveValueAsync(word);
        await Expect(page.Cards).ToHaveCountAsync(1);
        var card = page.Card(file);
        await Expect(card).ToContainTextAsync($"{word}-fox.png");
        await Expect(card).ToContainTextAsync("24×16");
        await Expect(card.Locator(CatalogPage.Selectors.Prompt)).ToContainTextAsync(Hostile);
        await Expect(page.Page.Locator("#injected")).ToHaveCountAsync(0);
        await ScreenshotAsync(page.Page, "catalog.png");

        // A keyword chip is a link to that keyword's search.
        await card.Locator(CatalogPage.Selectors.Keyword, new() { HasTextString = "a red fox" }).ClickAsync();
        await page.Page.WaitForURLAsync(new Regex("/catalog\\?q=a(%20|\\+)red(%20|\\+)fox$"));
        await Expect(page.Query).ToHaveValueAsync("a red fox");

        await page.SearchAsync(word + "-fox");
        await Expect(page.Card(file)).ToBeVisibleAsync();
    }

    [TestCase("/")]
    [TestCase("/catalog")]
    public async Task Pages_have_no_inline_script_or_style(string path)
    {
        var html = await Http.GetStringAsync(path.TrimStart('/'));
        Assert.That(InlineScript().Matches(html), Is.Empty, "every <script> has a src (the CSP allows no inline script)");
        Assert.That(html, Does.Not.Contain("<style").IgnoreCase, "styles live in site.css (the CSP allows no inline style)");
        Assert.That(StyleAttribute().Matches(html), Is.Empty, "no style=\"\" attributes");
        Assert.That(html, Does.Contain("type=\"module\""), "scripts load as ES modules");
    }

    [Test]
    public void Scripts_never_build_HTML_from_strings()
    {
        var scripts = Path.Combine(Path.GetDirectoryName(ArtifactsDirectory)!, "..", "wwwroot", "js");
        var offenders = Directory.GetFiles(scripts, "*.js")
            .Where(f => HtmlSinks().IsMatch(File.ReadAllText(f)))
            .Select(Path.GetFileName)
            .ToList();
        Assert.That(Directory.GetFiles(scripts, "*.js"), Is.Not.Empty, $"no scripts found under {scripts}");
        Assert.That(offenders, Is.Empty, "file names, prompts and messages are untrusted: use textContent / createElement");
    }

    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("\\sstyle\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex StyleAttribute();

    [GeneratedRegex("innerHTML|outerHTML|insertAdjacentHTML|document\\.write", RegexOptions.None)]
    private static partial Regex HtmlSinks();
}
