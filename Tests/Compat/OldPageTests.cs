using System.Text.RegularExpressions;
using IngestLite.Tests.Integration.Browser;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Compat;

/// <summary>
/// Upstream's Ingest V2 page (its Jinja template rendered textually, served from the app's origin) driven as a
/// user drives it: browse, select a folder, start, watch it reach 100%, open the report, commit, clear the
/// notice. The runs are small and left to run freely: the page polls once a second and every step waits for
/// what the page shows, not for time. Any alert, any response of 400 or more from the app, or any uncaught
/// error fails the test.
/// </summary>
[TestFixtureSource(typeof(BrowserTest), nameof(BrowserTest.Browsers))]
public sealed partial class OldPageTests(string browser) : CompatBrowserTest(browser)
{
    private const string PagePath = "/ingest-v2-compat";

    private const int Files = 3;

    [SetUp]
    public async Task StartWithNothingToRestoreAsync() => await CompatSuite.ForgetAllSessionsAsync(Http);

    [Test]
    public async Task Per_file_commit_mode_browse_process_report_commit_and_clear()
    {
        var folder = CompatSuite.NewFolder(Files, nested: 1);
        var page = await OpenOldPageAsync();
        await BrowseAndSelectAsync(page, folder, explore: true);

        var id = await ProcessToPreviewAsync(page);
        await CheckReportAsync(page, id);
        await CommitAsync(page);
        Assert.That(await CompatSuite.CatalogedAsync(Http, folder), Has.Count.EqualTo(Files), "after the commit, the folder's files are in the catalog");

        await ClearNoticeAsync(page, id);
        Assert.That(await CompatSuite.CatalogedAsync(Http, folder), Has.Count.EqualTo(Files), "clearing the notice forgets the session, not the media");
        AssertNothingWentWrong();
    }

    [Test]
    public async Task Deferred_commit_mode_leaves_the_catalog_untouched_until_commit()
    {
        var folder = CompatSuite.NewFolder(Files, nested: 1);
        App.SetSetting("Ingest:CommitMode", "Deferred");
        try
        {
            // A run processed to 'completed', then the page closed: nothing reaches the catalog.
            var page = await OpenOldPageAsync();
            await BrowseAndSelectAsync(page, folder, explore: false);
            var left = await ProcessToPreviewAsync(page);
            await CheckReportAsync(page, left);
            Assert.That(await CompatSuite.CatalogedAsync(Http, folder), Is.Empty, "deferred: a completed run left without commit writes nothing to the catalog");
            await page.CloseAsync();

            // The page opened again restores that session's preview; "Start New Session" deletes it, still without writing.
            page = await OpenOldPageAsync(expectStep: 3);
            await StepAsync("the restored preview links the left session's report", () =>
                Expect(page.Locator("#view-report-btn")).ToHaveAttributeAsync("href", $"/api/ingest/report/{left}"));
            await StepAsync("Start New Session", () => page.GetByRole(AriaRole.Button, new() { Name = "Start New Session" }).ClickAsync());
            await StepAsync("back at step 1", () => Expect(page.Locator("#parameters-form")).ToBeVisibleAsync());
            await WaitForSessionGoneAsync(left);
            Assert.That(await CompatSuite.CatalogedAsync(Http, folder), Is.Empty, "deferred: a deleted, uncommitted run writes nothing to the catalog");

            // The same folder again, committed this time: now its files are in the catalog.
            await BrowseAndSelectAsync(page, folder, explore: false);
            var id = await ProcessToPreviewAsync(page);
            Assert.That(await CompatSuite.CatalogedAsync(Http, folder), Is.Empty, "deferred: nothing in the catalog before the commit");
            await CommitAsync(page);
            Assert.That(await CompatSuite.CatalogedAsync(Http, folder), Has.Count.EqualTo(Files), "deferred: after the commit, the folder's files are in the catalog");
            await ClearNoticeAsync(page, id);
            AssertNothingWentWrong();
        }
        finally
        {
            App.SetSetting("Ingest:CommitMode", null);
        }
    }

    /// <summary>Opens upstream's page; it checks for a session to restore on load, so wait for the step it settles on.</summary>
    private async Task<IPage> OpenOldPageAsync(int expectStep = 1)
    {
        var html = Upstream.OldPage();
        var css = Upstream.Text("style_default.css");
        var page = await Context.NewPageAsync();
        await page.RouteAsync(Origin + PagePath, route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/html; charset=utf-8",
            Body = html,
        }));
        await page.RouteAsync("**/themes/style_default.css", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/css; charset=utf-8",
            Body = css,
        }));
        var activeSession = page.WaitForResponseAsync(r => r.Url.EndsWith("/api/ingest/active-session", StringComparison.Ordinal));
        await page.GotoAsync(PagePath);
        await StepAsync("the page asks for a session to restore", () => activeSession);
        await StepAsync($"the page shows step {expectStep}", () => Expect(page.Locator($"#step-{expectStep}")).ToHaveClassAsync(new Regex(@"\bactive\b")));
        return page;
    }

    /// <summary>
    /// Selects <paramref name="folder"/> in the directory browser. With <paramref name="explore"/>, first goes into
    /// it and back up with the Parent button, as a user looking around would.
    /// </summary>
    private async Task BrowseAndSelectAsync(IPage page, string folder, bool explore)
    {
        var root = App.MediaRoot.TrimEnd('/');
        var full = Path.Combine(root, folder);
        var item = page.Locator("#directory-tree .tree-item").Filter(new() { Has = page.Locator(".tree-item-content", new() { HasText = folder }) });

        await StepAsync("open the directory browser", () => page.Locator("button[onclick*='openDirectoryBrowser']").ClickAsync());
        await StepAsync("the browser shows the media root by its absolute path", () => Expect(page.Locator("#current-path")).ToHaveTextAsync(root));
        await StepAsync("the root has no parent", () => Expect(page.Locator("#parent-btn")).ToBeHiddenAsync());
        await StepAsync("the root's file summary is 'No files' (so none is shown)", () => Expect(page.Locator("#directory-tree .tree-files")).ToHaveCountAsync(0));
        await StepAsync("the folder is listed with its file count", () => Expect(item).ToContainTextAsync($"(0/{Files})"));

        if (explore)
        {
            await StepAsync("click into the folder", () => item.Locator(".tree-item-content").ClickAsync());
            await StepAsync("the browser shows the folder's absolute path", () => Expect(page.Locator("#current-path")).ToHaveTextAsync(full));
            await StepAsync("the folder's files are summarised", () => Expect(page.Locator("#directory-tree .tree-files")).ToContainTextAsync($"{Files} png"));
            await StepAsync("its nested folder is listed", () => Expect(page.Locator("#directory-tree .tree-item-content", new() { HasText = "nested" })).ToBeVisibleAsync());
            await StepAsync("the Parent button shows", () => Expect(page.Locator("#parent-btn")).ToBeVisibleAsync());
            await StepAsync("click Parent", () => page.Locator("#parent-btn").ClickAsync());
            await StepAsync("back at the media root", () => Expect(page.Locator("#current-path")).ToHaveTextAsync(root));
            await StepAsync("the root has no parent", () => Expect(page.Locator("#parent-btn")).ToBeHiddenAsync());
        }

        await StepAsync("add the folder with +", () => item.Locator(".tree-add-btn").ClickAsync());
        await StepAsync("the folder shows as selected", () => Expect(page.Locator("#browser-selected-list")).ToContainTextAsync(full));
        await StepAsync("the file-type toggles appear", () => Expect(page.Locator("#file-types-container .file-type-toggle.active[data-type='png']")).ToBeVisibleAsync());
        await StepAsync("close the directory browser", () => page.Locator("#directory-close-btn").ClickAsync());
        await StepAsync("the browser closes", () => Expect(page.Locator("#directory-overlay")).Not.ToHaveClassAsync(new Regex(@"\bactive\b")));
        await StepAsync("the page lists the selected folder", () => Expect(page.Locator("#selected-dirs-list")).ToContainTextAsync(full));
    }

    /// <summary>Start Processing, counters to 100%, the preview; returns the session id the report link names.</summary>
    private async Task<string> ProcessToPreviewAsync(IPage page)
    {
        await StepAsync("click Start Processing", () => page.Locator("#process-btn").ClickAsync());
        await StepAsync("the progress section shows", () => Expect(page.Locator("#progress-section")).ToBeVisibleAsync());
        await StepAsync("the counters reach 100%", () => Expect(page.Locator("#progress-percentage")).ToHaveTextAsync("100%", new() { Timeout = 30_000 }));
        await StepAsync("the preview section shows", () => Expect(page.Locator("#preview-section")).ToBeVisibleAsync());
        await StepAsync("every file is counted as processed", () => Expect(page.Locator("#stat-processed")).ToHaveTextAsync(Files.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await StepAsync("no errors are counted", () => Expect(page.Locator("#stat-errors")).ToHaveTextAsync("0"));
        await StepAsync("the NSFW counter shows a number", () => Expect(page.Locator("#stat-nsfw")).ToHaveTextAsync(new Regex(@"^\d+$")));
        var href = await page.Locator("#view-report-btn").GetAttributeAsync("href") ?? "";
        var match = ReportLink().Match(href);
        Assert.That(match.Success, Is.True, $"the report link is /api/ingest/report/{{id}}: '{href}'");
        return match.Groups["id"].Value;
    }

    /// <summary>The preview's report link answers 200 with HTML.</summary>
    private async Task CheckReportAsync(IPage page, string id)
    {
        var href = await page.Locator("#view-report-btn").GetAttributeAsync("href");
        var report = await page.APIRequest.GetAsync(href!);
        Assert.That(report.Status, Is.EqualTo(200), $"GET {href}: {await report.TextAsync()}");
        Assert.That(report.Headers["content-type"], Does.StartWith("text/html"), $"GET {href}: its content type");
        Assert.That(await report.TextAsync(), Does.Contain(id), "the report names its session");
    }

    /// <summary>Commit, then the page polls commit-status until it shows its success notice.</summary>
    private async Task CommitAsync(IPage page)
    {
        await StepAsync("click Commit to Database", () => page.Locator("#commit-btn").ClickAsync());
        await StepAsync("the commit section shows", () => Expect(page.Locator("#commit-section")).ToBeVisibleAsync());
        await StepAsync("the commit succeeds", () => Expect(page.Locator("#commit-result .success-message")).ToContainTextAsync("Successfully Committed", new() { Timeout = 30_000 }));
        await StepAsync("step 4 is active", () => Expect(page.Locator("#step-4")).ToHaveClassAsync(new Regex(@"\bactive\b")));
    }

    /// <summary>"Clear Notice" deletes the session and takes the page back to step 1.</summary>
    private async Task ClearNoticeAsync(IPage page, string id)
    {
        var deleted = page.WaitForResponseAsync(r => r.Request.Method == "DELETE" && r.Url.EndsWith($"/api/ingest/session/{id}", StringComparison.Ordinal));
        await StepAsync("click Clear Notice", () => page.Locator("#commit-result button", new() { HasText = "Clear Notice" }).ClickAsync());
        IResponse? response = null;
        await StepAsync("the page deletes the session", async () => response = await deleted);
        Assert.That(response!.Status, Is.EqualTo(200), "DELETE answers 200, as upstream's did ({\"status\": \"cleaned_up\"})");
        await StepAsync("back at step 1", () => Expect(page.Locator("#parameters-form")).ToBeVisibleAsync());
        await StepAsync("step 1 is active", () => Expect(page.Locator("#step-1")).ToHaveClassAsync(new Regex(@"\bactive\b")));
        await StepAsync("the notice is gone", () => Expect(page.Locator("#commit-result")).ToBeEmptyAsync());
        await WaitForSessionGoneAsync(id);
    }

    /// <summary>The page does not wait for its DELETE; the test waits until active-session no longer names the session.</summary>
    private async Task WaitForSessionGoneAsync(string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await ActiveSessionAsync())["session_id"]?.GetValue<string>() == id)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"active-session still names the deleted session {id}");
            await Task.Delay(50);
        }
    }

    private void AssertNothingWentWrong()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Dialogs(), Is.Empty, "the page raised no alert");
            Assert.That(ErrorResponses(), Is.Empty, "no response of 400 or more from the app");
        });
    }

    [GeneratedRegex(@"^/api/ingest/report/(?<id>[^/?#]+)$")]
    private static partial Regex ReportLink();
}
