using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IngestLite.Tests.Support;
using IngestLite.Tests.Support.Pages;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>The per-file results on the ingest page: the live table, its filters and pages, the failed-files panel and retry.</summary>
[TestFixtureSource(typeof(BrowserTest), nameof(Browsers))]
public sealed class ResultsTableTests(string browser) : BrowserTest(browser)
{
    /// <summary>The rows the page keeps in the DOM at most (results-table.js PAGE_SIZE).</summary>
    private const int PageSize = 100;

    /// <summary>A row or failed-panel item as the in-page probe saw it added (times in wall-clock ms).</summary>
    private sealed record Added(double At, string Session, long Seq, string Path, string State, string Status);

    [Test]
    public async Task A_failed_file_appears_in_the_table_and_the_failed_panel_while_the_run_goes_on()
    {
        await Context.AddInitScriptAsync(PageProbes.ResultsRecorder);
        var bad = new Dictionary<int, Action<string>>
        {
            [2] = MediaFactory.WriteCorruptPng,
            [6] = MediaFactory.WriteZeroByte,
            [10] = MediaFactory.WriteCorruptPng,
        };
        var folder = NewFolderWithBadFiles(16, bad);

        MediaFactory.WriteTruncatedJpeg(Path.Combine(App.MediaRoot, folder, "f07b.jpg"), seed: 3);
        var expected = bad.Keys.Select(i => $"{folder}/f{i:D2}.png").ToList();

        var page = await OpenIngestPageAsync();
        // The first 12 files (f00-f10 and f07b, every bad one among them) may start; the rest wait at the gate.
        HoldAfter(12);
        var id = await page.StartAsync(folder);
        await Expect(page.FailedItems).ToHaveCountAsync(3, new() { Timeout = 15_000 });
        Assert.That((await page.ReadAsync()).Status, Is.EqualTo("processing"), "read mid-run");
        await ScreenshotAsync(page.Page, "results-table.png");
        App.Gate.Open();
        await page.WaitForFinalAsync("completed");
        await page.WaitForResultsSettledAsync();

        var failedAt = (await Api.StatusAsync(id))["error_details"]!.AsArray()
            .ToDictionary(e => e!["file"]!.GetValue<string>(), e => (double)DateTimeOffset.Parse(e!["at"]!.GetValue<string>(), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds());
        var rows = (await ProbeAsync(page, "rows")).Where(r => r.Session == id).ToList();
        var failedRows = rows.Where(r => r.State == "failed").ToList();
        var panelItems = (await ProbeAsync(page, "failed")).Where(r => r.Session == id).ToList();
        var delays = failedRows.Select(r => r.At - failedAt[r.Path]).ToList();
        TestContext.Out.WriteLine($"failure → table row: {string.Join(", ", delays.Select(d => $"{d:F0} ms"))}");

        Assert.Multiple(() =>
        {
            Assert.That(failedRows.Select(r => r.Path), Is.EquivalentTo(expected), "each failed file got one row");
            Assert.That(failedRows.Select(r => r.Status), Is.All.EqualTo("processing"), "every failed row was on screen before the run ended");
            Assert.That(delays, Is.All.LessThan(1000), "a failed file is in the table within a second of failing");
            Assert.That(panelItems.Select(r => r.Path), Is.EquivalentTo(expected), "each failure is listed once in the panel");
            Assert.That(panelItems.Select(r => r.Status), Is.All.EqualTo("processing"), "the panel listed every failure while the run went on");
            Assert.That(rows.Select(r => r.Seq), Is.Unique, "no row was added twice");
            Assert.That(rows.Count(r => r.Status == "processing"), Is.GreaterThan(rows.Count / 2), "the table filled in during the run, not at its end");
        });

        // Appended as they came, never rebuilt: the table ends exactly as the API lists the results.
        Assert.That(await ProbeValueAsync<int>(page, "removed"), Is.Zero, "no row was ever removed (the table is not re-rendered on each poll)");
        var api = await AllResultsAsync(id);
        var shown = await page.ReadResultRowsAsync();
        Assert.That(shown.Select(r => (r.Path, r.State)), Is.EqualTo(api.Select(i => (Str(i, "path"), Str(i, "state")))), "rows and order match the API");
        Assert.That(shown.Single(r => r.Path.EndsWith("f07b.jpg", StringComparison.Ordinal)).State, Is.EqualTo("committed_with_warnings"));
        var zero = shown.Single(r => r.Path == expected[1]);
        Assert.That(zero.Cells[3], Is.EqualTo(Str(api.Single(i => Str(i, "path") == expected[1]), "reason")), "the reason column shows the API's reason");
        await Expect(page.FailedCount).ToHaveTextAsync("3");
        await Expect(page.ResultsTabCount("failed")).ToHaveTextAsync("3");
    }

    [Test]
    public async Task Retry_failed_starts_a_linked_run_over_exactly_the_failed_files()
    {
        // The API's real answer for a session with nothing to retry, served below to one click of the button.
        var clean = await Api.StartAsync(new { directory = NewFolder(1) });
        await Api.WaitForEndAsync(clean);
        using var refused = await Http.PostAsync($"api/ingest/session/{clean}/retry-failed", null);
        var problem = await refused.Content.ReadAsStringAsync();
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), problem);
        var detail = IngestClient.Parse(problem)["detail"]!.GetValue<string>();

        var folder = NewFolder(4);
        var dir = Path.Combine(App.MediaRoot, folder);
        MediaFactory.WriteCorruptPng(Path.Combine(dir, "broken-1.png"));
        MediaFactory.WriteCorruptPng(Path.Combine(dir, "broken-2.png"));
        MediaFactory.WriteZeroByte(Path.Combine(dir, "empty.png"));
        var failed = new[] { "broken-1.png", "broken-2.png", "empty.png" }.Select(f => $"{folder}/{f}").ToList();

        var page = await OpenIngestPageAsync();
        var parent = await page.StartAsync(folder);
        await page.WaitForFinalAsync("completed");
        await page.WaitForResultsSettledAsync();
        await Expect(page.FailedItems).ToHaveCountAsync(3);
        await Expect(page.RetryFailedButton).ToBeVisibleAsync();

        await page.Page.RouteAsync("**/retry-failed", route => route.FulfillAsync(new()
        {
            Status = 400,
            ContentType = "application/problem+json",
            Body = problem,
        }));
        await page.RetryFailedButton.ClickAsync();
        await Expect(page.RetryError).ToHaveTextAsync(detail);
        await Expect(page.LivePanel).ToHaveAttributeAsync("data-session", parent);
        await page.Page.UnrouteAsync("**/retry-failed");

        // One failure is fixed on disk; the retry commits it and fails the other two again.
        MediaFactory.WritePng(Path.Combine(dir, "broken-1.png"), 16, 16, seed: 42);
        var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Page.Request += (_, request) => requests.Enqueue($"{request.Method} {new Uri(request.Url).AbsolutePath}");
        await page.RetryFailedButton.ClickAsync();
        await Expect(page.LivePanel).Not.ToHaveAttributeAsync("data-session", parent);
        var child = (await page.LivePanel.GetAttributeAsync("data-session"))!;
        await Expect(page.ParentSession).ToHaveTextAsync(parent);
        await Expect(page.RetryError).ToBeHiddenAsync();
        await page.WaitForFinalAsync("completed");
        await page.WaitForResultsSettledAsync();

        var status = await Api.StatusAsync(child);
        var childResults = await AllResultsAsync(child);
        var parentFailed = (await AllResultsAsync(parent)).Where(i => Str(i, "state") == "failed").Select(i => Str(i, "path")).ToList();
        var shown = await page.ReadResultRowsAsync();
        Assert.Multiple(() =>
        {
            Assert.That(requests, Does.Contain($"POST /api/ingest/session/{parent}/retry-failed"), "the button posted retry-failed for the shown session");
            Assert.That(parentFailed, Is.EquivalentTo(failed), "the first run failed exactly the three broken files");
            Assert.That(status["parent_session_id"]?.GetValue<string>(), Is.EqualTo(parent), "the new session is linked to its parent");
            Assert.That(IngestClient.Int(status, "total_files"), Is.EqualTo(3));
            Assert.That(childResults.Select(i => Str(i, "path")), Is.EquivalentTo(parentFailed), "the retry ran exactly the failed files");
            Assert.That(shown.Select(r => r.Path), Is.EquivalentTo(parentFailed), "the table shows the new session's files");
            Assert.That(shown.Single(r => r.Path == failed[0]).State, Is.EqualTo("committed"), "the fixed file is committed this time");
        });
        await Expect(page.FailedItems).ToHaveCountAsync(2);

        // The parent stays one click away.
        await page.ParentSession.ClickAsync();
        await Expect(page.LivePanel).ToHaveAttributeAsync("data-session", parent);
        await Expect(page.ResultsPanel).ToHaveAttributeAsync("data-session", parent);
        await page.WaitForResultsSettledAsync();
        await Expect(page.ResultRows).ToHaveCountAsync(7);
    }

    [Test]
    public async Task Filter_tabs_show_only_that_state_and_the_CSV_link_keeps_the_filter()
    {
        var folder = NewFolder(3);
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = folder }));
        var dir = Path.Combine(App.MediaRoot, folder);
        IngestApiTests.WritePngs(folder, 2, name: "new");
        MediaFactory.WriteCorruptPng(Path.Combine(dir, "broken-1.png"));
        MediaFactory.WriteCorruptPng(Path.Combine(dir, "broken-2.png"));
        MediaFactory.WriteTruncatedJpeg(Path.Combine(dir, "cut.jpg"), seed: 5);

        var page = await OpenIngestPageAsync();
        var urls = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Page.Request += (_, request) => urls.Enqueue(request.Url);
        var id = await page.StartAsync(folder);
        await page.WaitForFinalAsync("completed");
        await page.WaitForResultsSettledAsync();

        var expected = new Dictionary<string, (string? State, int Count)>
        {
            ["failed"] = ("failed", 2),
            ["warnings"] = ("committed_with_warnings", 1),
            ["skipped"] = ("skipped", 3),
            ["all"] = (null, 8),
        };
        foreach (var (filter, (state, count)) in expected)
        {
            await page.ChooseFilterAsync(filter);
            var rows = await page.ReadResultRowsAsync();
            var csvHref = await page.ResultsCsv.GetAttributeAsync("href");
            var csv = await Http.GetStringAsync(csvHref!.TrimStart('/'));
            var apiCount = (await AllResultsAsync(id, state)).Count;
            Assert.Multiple(() =>
            {
                Assert.That(rows, Has.Count.EqualTo(count), $"{filter}: rows");
                Assert.That(apiCount, Is.EqualTo(count), $"{filter}: the API agrees");
                if (state is not null)
                {
                    Assert.That(rows.Select(r => r.State), Is.All.EqualTo(state), $"{filter}: only that state");
                    Assert.That(urls.Any(u => u.Contains($"/api/ingest/session/{id}/files?cursor=0&", StringComparison.Ordinal) && u.Contains($"state={state}", StringComparison.Ordinal)), Is.True, $"{filter}: read again from cursor 0 with the state");
                }

                Assert.That(csvHref, Is.EqualTo(state is null ? $"/api/ingest/session/{id}/files.csv" : $"/api/ingest/session/{id}/files.csv?state={state}"), $"{filter}: CSV link");
                Assert.That(csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(count + 1), $"{filter}: the CSV has the header and the same rows");
            });
            await Expect(page.ResultsTabCount(filter)).ToHaveTextAsync(count.ToString(CultureInfo.InvariantCulture));
            await Expect(page.ResultsRange).ToHaveTextAsync($"rows 1–{count} of {count}");
        }

        // Whatever the tabs did, the panel lists each failure once.
        await Expect(page.FailedItems).ToHaveCountAsync(2);
        await Expect(page.FailedCount).ToHaveTextAsync("2");
    }

    [Test]
    public async Task Two_thousand_results_keep_the_DOM_to_one_page_and_the_pages_turn()
    {
        const int Files = 2000;
        await Context.AddInitScriptAsync(PageProbes.ResultsRecorder);
        var folder = NewFolder(Files);
        var page = await OpenIngestPageAsync();
        // The run waits at the gate after page 1 and a half: "Last" is pressed while it provably still runs.
        HoldAfter(PageSize + PageSize / 2);
        var id = await page.StartAsync(folder);
        await Expect(page.ResultRows).ToHaveCountAsync(PageSize, new() { Timeout = 60_000 });

        // Page 1 is full: so far rows were only appended. Then "Last" follows the tail to the end of the run.
        var maxRows = await ProbeValueAsync<int>(page, "maxRows");
        var removed = await ProbeValueAsync<int>(page, "removed");
        var page1 = (await ProbeAsync(page, "rows")).Where(r => r.Session == id).ToList();
        var statusAtLast = (await page.ReadAsync()).Status;
        var totalAtLast = int.Parse((await page.ResultsPanel.GetAttributeAsync("data-total"))!, CultureInfo.InvariantCulture);
        await page.ResultsLast.ClickAsync();
        App.Gate.Open();
        await page.WaitForFinalAsync("completed", 180_000);
        await page.WaitForResultsSettledAsync();
        var maxRowsOverall = await ProbeValueAsync<int>(page, "maxRows");
        TestContext.Out.WriteLine($"{Files} results: {maxRows} rows in the DOM and {removed} removed while page 1 filled; " +
            $"Last pressed at {totalAtLast} rows ({statusAtLast}); at most {maxRowsOverall} rows in the DOM overall");
        Assert.Multiple(() =>
        {
            Assert.That(page1.Where(r => r.Status == "processing"), Is.Not.Empty, "the first page filled while the run went on");
            Assert.That(removed, Is.Zero, "while on page 1 rows were only appended, never rebuilt");
            Assert.That(page1.Select(r => r.Seq), Is.Unique.And.Ordered.Ascending, "page 1 got each row once, in processing order");
            Assert.That(maxRowsOverall, Is.LessThanOrEqualTo(PageSize).And.LessThan(300), "never more than one page of rows in the DOM");
            Assert.That(statusAtLast, Is.EqualTo("processing"), "Last was pressed mid-run");
            Assert.That(totalAtLast, Is.LessThan(Files));
        });
        await Expect(page.ResultsPanel).ToHaveAttributeAsync("data-total", Files.ToString(CultureInfo.InvariantCulture));
        await Expect(page.ResultsRange).ToHaveTextAsync(Range(1901, 2000, Files));
        await page.ResultsFirst.ClickAsync();
        await Expect(page.ResultsRange).ToHaveTextAsync(Range(1, 100, Files));
        await Expect(page.ResultsPrev).ToBeDisabledAsync();

        var seen = new HashSet<long>();
        var first = await ReadPageAsync(page, seen);
        await page.ResultsNext.ClickAsync();
        await Expect(page.ResultsRange).ToHaveTextAsync(Range(101, 200, Files));
        var second = await ReadPageAsync(page, seen);
        Assert.That(second.Min(), Is.GreaterThan(first.Max()), "page 2 continues where page 1 ended");

        await page.ResultsLast.ClickAsync();
        await Expect(page.ResultsRange).ToHaveTextAsync(Range(1901, 2000, Files));
        await Expect(page.ResultsNext).ToBeDisabledAsync();
        var last = await ReadPageAsync(page, seen);
        await page.ResultsPrev.ClickAsync();
        await Expect(page.ResultsRange).ToHaveTextAsync(Range(1801, 1900, Files));
        var beforeLast = await ReadPageAsync(page, seen);
        Assert.That(beforeLast.Max(), Is.LessThan(last.Min()));
        await page.ResultsFirst.ClickAsync();
        await Expect(page.ResultsRange).ToHaveTextAsync(Range(1, 100, Files));
        Assert.That(await ReadPageAsync(page, []), Is.EqualTo(first), "back on page 1, the same rows");

        var api = (await AllResultsAsync(id)).Select(i => i["seq"]!.GetValue<long>()).ToList();
        Assert.That(api, Has.Count.EqualTo(Files));
        Assert.That(seen, Is.SubsetOf(api), "every row shown is one of the session's results");
        Assert.That(seen, Has.Count.EqualTo(4 * PageSize), "four different pages were shown");
    }

    [Test]
    public async Task Hostile_file_names_and_prompts_show_as_literal_text_and_run_nothing()
    {
        await Context.AddInitScriptAsync(PageProbes.ResultsRecorder);
        const string BadName = "<img src=x onerror=alert(1)>.png";
        const string GoodName = "<img src=x onerror=alert(2)>-ok.png";
        const string Prompt = "<script>alert(3)</script>, a hostile fox";
        var folder = "b-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(App.MediaRoot, folder);
        // "0-…" sorts before "<": the hostile files are not the very first, so the page is surely watching.
        IngestApiTests.WritePngs(folder, 3, name: "0-plain");
        MediaFactory.WriteCorruptPng(Path.Combine(dir, BadName));
        MediaFactory.WritePng(Path.Combine(dir, GoodName), 24, 16, [("parameters", MediaFactory.A1111Parameters(Prompt))], seed: 3);
        IngestApiTests.WritePngs(folder, 3, name: "plain");
        var bad = $"{folder}/{BadName}";
        var good = $"{folder}/{GoodName}";

        var dialogs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Context.Page += (_, p) => p.Dialog += (_, dialog) =>
        {
            dialogs.Enqueue(dialog.Message);
            _ = dialog.DismissAsync();
        };
        var page = await OpenIngestPageAsync();
        Throttle(6);
        await page.StartAsync(folder);
        await page.WaitForFinalAsync("completed");
        await page.WaitForResultsSettledAsync();

        var rows = await page.ReadResultRowsAsync();
        var currentFiles = await page.Page.EvaluateAsync<string[]>("() => window.__results.currentFiles");
        var injected = await page.Page.EvaluateAsync<int>("() => document.querySelectorAll('img, #main script, [onerror]').length");
        Assert.Multiple(() =>
        {
            Assert.That(rows.Single(r => r.Path == bad).Cells[0], Is.EqualTo(bad), "results table: the failed file's name as text");
            Assert.That(rows.Single(r => r.Path == bad).State, Is.EqualTo("failed"));
            Assert.That(rows.Single(r => r.Path == good).Cells[0], Is.EqualTo(good), "results table: the committed file's name as text");
            Assert.That(currentFiles, Has.Some.EqualTo(bad).And.Some.EqualTo(good), "the current-file field showed both names as text");
            Assert.That(injected, Is.Zero, "no element was created from a file name");
        });
        await Expect(page.FailedItems).ToHaveCountAsync(1);
        await Expect(page.FailedItems.Locator(".failed-file")).ToHaveTextAsync(bad);
        await Expect(page.ErrorItems).ToHaveCountAsync(1);
        await Expect(page.ErrorItems.Locator(".error-file")).ToHaveTextAsync(bad);

        var catalog = new CatalogPage(await Context.NewPageAsync());
        await catalog.GotoAsync("hostile fox");
        var card = catalog.Card(good);
        await Expect(card.Locator(".media-name")).ToHaveTextAsync(GoodName);
        await Expect(card.Locator(CatalogPage.Selectors.Prompt)).ToContainTextAsync("<script>alert(3)</script>");
        // The page's own images are the thumbnails (and the detail view's): anything else came from the data.
        Assert.That(await catalog.Page.EvaluateAsync<int>("() => document.querySelectorAll('img:not(.media-thumb > img):not(#detail-image), #main script, [onerror]').length"), Is.Zero, "catalog: no element created from the prompt or the name");
        Assert.That(await catalog.Page.EvaluateAsync<bool>("() => [...document.querySelectorAll('.media-thumb > img')].every(i => new URL(i.src).pathname.startsWith('/api/media/'))"), Is.True, "thumbnails only");

        // Give a handler that slipped through time to fire before checking.
        await page.Page.WaitForTimeoutAsync(300);
        Assert.That(dialogs, Is.Empty, "no script from a file name or prompt ran");
    }

    private static Regex Range(int from, int to, int total) =>
        new($"^rows {Number(from)}–{Number(to)} of {Number(total)}$");

    // The page formats with the browser's locale: accept any digit-group separator.
    private static string Number(int n) =>
        n.ToString("N0", CultureInfo.InvariantCulture).Replace(",", "[,.\u00a0\u202f ]?", StringComparison.Ordinal);

    /// <summary>The seqs of the page on screen; checks it holds one page at most and adds them to <paramref name="seen"/>.</summary>
    private static async Task<List<long>> ReadPageAsync(IngestPage page, HashSet<long> seen)
    {
        var rows = await page.ReadResultRowsAsync();
        Assert.That(rows, Has.Count.EqualTo(PageSize), "a full page of rows");
        var seqs = rows.Select(r => r.Seq).ToList();
        Assert.That(seqs, Is.Unique.And.Ordered.Ascending, "a page lists results in processing order");
        seen.UnionWith(seqs);
        return seqs;
    }

    private async Task<List<JsonNode>> AllResultsAsync(string id, string? state = null)
    {
        var all = new List<JsonNode>();
        var cursor = "0";
        var filter = state is null ? "" : $"&state={state}";
        while (true)
        {
            var page = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?cursor={cursor}&limit=1000{filter}"));
            all.AddRange(page["items"]!.AsArray().Select(i => i!));
            cursor = page["next_cursor"]!.GetValue<string>();
            if (!page["has_more"]!.GetValue<bool>())
            {
                return all;
            }
        }
    }

    private static string Str(JsonNode item, string name) => item[name]?.GetValue<string>() ?? "";

    private static async Task<List<Added>> ProbeAsync(IngestPage page, string name)
    {
        var json = await page.Page.EvaluateAsync<JsonElement>($"() => window.__results.{name}");
        return json.Deserialize<List<Added>>(IngestClient.Json) ?? [];
    }

    private static async Task<T> ProbeValueAsync<T>(IngestPage page, string name) =>
        await page.Page.EvaluateAsync<T>($"() => window.__results.{name}");
}
