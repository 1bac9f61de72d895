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

    [Test]
    public async Task Facets_filter_in_the_address_and_the_detail_view_shows_every_field_by_keyboard_too()
    {
        const string Hostile = "<img src=x id=injected>";
        var folder = "b-" + Guid.NewGuid().ToString("N")[..8];
        string At(string name) => Path.Combine(App.MediaRoot, folder, name);
        MediaFactory.WritePng(At("a-sdxl.png"), 64, 64, [("parameters", Unit.GenerationA1111Tests.A1111Sdxl)], seed: 11);
        File.Copy(At("a-sdxl.png"), At("b-copy.png"));
        MediaFactory.WritePng(At("c-flux.png"), 64, 64, [("parameters", Unit.GenerationA1111Tests.ForgeFlux)], seed: 12);
        MediaFactory.WritePng(At("d-hostile.png"), 64, 64, [("parameters", MediaFactory.A1111Parameters($"{Hostile}, <lora:{Hostile}:0.5>", model: Hostile))], seed: 13);
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = folder }));
        await Context.AddInitScriptAsync("Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText: async (text) => { window.__copied = text; } } });");

        var page = await Context.NewPageAsync();
        await page.GotoAsync($"/catalog?folder={folder}&sort=name");
        var cards = page.Locator(CatalogPage.Selectors.Card);
        await Expect(cards).ToHaveCountAsync(4);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#catalog-results img')].every(i => i.complete && i.naturalWidth > 0)");
        var model = page.Locator("[data-facet=model]");
        await Expect(model.Locator("li[data-value='sd_xl_base_1.0'] .facet-count")).ToHaveTextAsync("2");
        await Expect(model.Locator("li[data-value='flux_dev'] .facet-count")).ToHaveTextAsync("1");
        await Expect(model.Locator($"li[data-value='{Hostile}'] .facet-label")).ToHaveTextAsync(Hostile);

        // A facet is a link: the filter goes into the address, and the view survives a reload.
        await model.Locator("li[data-value='flux_dev'] a").ClickAsync();
        await page.WaitForURLAsync(new Regex("model=flux_dev"));
        await Expect(cards).ToHaveCountAsync(1);
        await page.ReloadAsync();
        await Expect(cards).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-facet=model] li.is-on")).ToHaveAttributeAsync("data-value", "flux_dev");
        await page.Locator("a.facet-clear").ClickAsync();
        await Expect(cards).ToHaveCountAsync(4);

        // The detail view: every field, the LoRAs with their weights, copy prompt, the near-duplicate.
        await cards.First.ClickAsync();
        var detail = page.Locator("#media-detail");
        await Expect(detail).ToHaveAttributeAsync("data-path", $"{folder}/a-sdxl.png");
        await Expect(page.Locator("#detail-fields")).ToContainTextAsync("Karras");
        await Expect(page.Locator("#detail-fields")).ToContainTextAsync("DPM++ 2M");
        await Expect(page.Locator("#detail-negative")).ToContainTextAsync("lowres");
        await Expect(page.Locator("#detail-loras li[data-name='add_detail']")).ToHaveTextAsync("add_detail (0.6)");
        await Expect(page.Locator($"#detail-similar li[data-path='{folder}/b-copy.png']")).ToBeVisibleAsync();
        await page.Locator("#detail-copy").ClickAsync();
        Assert.That(await page.EvaluateAsync<string>("window.__copied"), Does.StartWith("masterpiece, best quality"));
        await ScreenshotAsync(page, "catalog-detail.png");

        // Keyboard: ← → go through the items, Esc closes and gives the focus back to the card.
        await page.Keyboard.PressAsync("ArrowRight");
        await Expect(detail).ToHaveAttributeAsync("data-path", $"{folder}/b-copy.png");
        await page.Keyboard.PressAsync("Escape");
        await Expect(detail).Not.ToHaveAttributeAsync("open", "");
        Assert.That(await page.EvaluateAsync<string>("document.activeElement.dataset.path"), Is.EqualTo($"{folder}/b-copy.png"));
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.That(await page.EvaluateAsync<string>("document.activeElement.dataset.path"), Is.EqualTo($"{folder}/d-hostile.png"));
        await page.Keyboard.PressAsync("Enter");
        await Expect(detail).ToHaveAttributeAsync("data-path", $"{folder}/d-hostile.png");
        await Expect(page.Locator("#detail-prompt")).ToContainTextAsync(Hostile);
        await Expect(page.Locator("#detail-fields")).ToContainTextAsync(Hostile);
        await Expect(page.Locator("#injected")).ToHaveCountAsync(0);
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
