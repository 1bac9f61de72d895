using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Support.Pages;

/// <summary>The catalog page (<c>/catalog?q=…</c>). Every selector the tests use lives in <see cref="Selectors"/>.</summary>
public sealed class CatalogPage(IPage page)
{
    public static class Selectors
    {
        public const string Query = "#catalog-query";
        public const string Submit = "#catalog-submit";
        public const string Summary = "#catalog-summary";
        public const string Results = "#catalog-results";
        public const string Card = "#catalog-results li.media-card";
        public const string Keyword = "a.keyword";
        public const string Prompt = ".media-prompt";
    }

    public IPage Page => page;

    public ILocator Query => page.Locator(Selectors.Query);

    public ILocator Results => page.Locator(Selectors.Results);

    public ILocator Cards => page.Locator(Selectors.Card);

    public ILocator Card(string path) => page.Locator($"{Selectors.Card}[data-path=\"{path}\"]");

    /// <summary>Opens <c>/catalog?q=…</c> and waits until the results are in.</summary>
    public async Task GotoAsync(string? query)
    {
        await page.GotoAsync(query is null ? "/catalog" : $"/catalog?q={Uri.EscapeDataString(query)}");
        await Expect(Results).ToHaveAttributeAsync("data-count", new System.Text.RegularExpressions.Regex("^[0-9]+$"));
    }

    public async Task SearchAsync(string query)
    {
        await Query.FillAsync(query);
        await page.Locator(Selectors.Submit).ClickAsync();
        await page.WaitForURLAsync($"**/catalog?q={Uri.EscapeDataString(query)}");
        await Expect(Results).ToHaveAttributeAsync("data-count", new System.Text.RegularExpressions.Regex("^[0-9]+$"));
    }
}
