using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Hangfire;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace IngestLite.Tests.Integration.Browser;

/// <summary>
/// IngestLite inside the Hangfire dashboard: the live panel on an ingest job's page, the Ingest page, the % in
/// the Processing list, and Hangfire's own Delete and Requeue buttons. Runs are held at the test gate, or
/// throttled and then let go, so every step sees the state it expects.
/// </summary>
[TestFixtureSource(typeof(BrowserTest), nameof(Browsers))]
public sealed class DashboardTests(string browser) : BrowserTest(browser)
{
    /// <summary>Records, inside the page, when the panel's "X / Y files" text changed and the snapshot it came from.</summary>
    private const string PanelRecorder = """
        (() => {
          const now = () => performance.timeOrigin + performance.now();
          const probe = { files: [] };
          window.__dashboard = probe;
          new MutationObserver(() => {
            const panel = document.getElementById('ingestlite-job');
            const files = panel?.querySelector('[data-field="files"]')?.textContent;
            const updatedAt = Date.parse(panel?.dataset.updatedAt ?? '');
            if (files && probe.files.at(-1)?.text !== files && Number.isFinite(updatedAt)) {
              probe.files.push({ at: now(), text: files, updatedAt });
            }
          }).observe(document, { subtree: true, childList: true, characterData: true });
        })();
        """;

    private sealed record FilesText(double At, string Text, double UpdatedAt);

    [Test]
    public async Task The_job_page_shows_the_run_live_to_100_percent_with_no_request_on_a_timer()
    {
        const int Files = 60;
        var folder = NewFolder(Files);

        // 10 files/s once the gate opens (a job reads the throttle when it starts).
        Throttle(10);
        HoldAfter(0);
        var (id, job) = await StartAsync(folder);

        await Context.AddInitScriptAsync(PanelRecorder);
        var page = await Context.NewPageAsync();
        var requests = new List<(DateTime At, string Path)>();
        page.Request += (_, request) => requests.Add((DateTime.UtcNow, new Uri(request.Url).AbsolutePath));
        await page.GotoAsync($"hangfire/jobs/details/{job}");
        var panel = page.Locator("#ingestlite-job");
        await Expect(page.Locator("h1.page-header")).ToHaveTextAsync($"Ingest {Files} files from {folder}");
        await Expect(panel).ToHaveAttributeAsync("data-mode", "LIVE");

        // Five files, then a screenshot of the page mid-run while the run waits at the gate.
        App.Gate.Release(5);
        await Expect(panel.Locator("[data-field=files]")).ToHaveTextAsync($"5 / {Files} files");
        await Expect(panel.Locator("[data-field=current]")).ToContainTextAsync(folder);
        await ScreenshotAsync(page, "dashboard-job-mid-run.png");

        // The rest at 10 files/s: every count reaches the panel by push.
        var streaming = DateTime.UtcNow;
        App.Gate.Open();
        await Expect(panel).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 60_000 });
        var ended = DateTime.UtcNow;
        await Expect(panel.Locator("[data-field=percent]")).ToHaveTextAsync("100%");
        await Expect(panel.Locator(".progress-bar")).ToHaveAttributeAsync("aria-valuenow", "100");
        await Expect(panel.Locator("[data-field=files]")).ToHaveTextAsync($"{Files} / {Files} files");
        await Expect(panel.Locator("[data-field=committed]")).ToHaveTextAsync($"{Files}");
        await Expect(panel.Locator("a.ingestlite-open")).ToHaveAttributeAsync("href", $"/?session={id}");
        await Expect(panel.Locator("a.ingestlite-report")).ToHaveAttributeAsync("href", $"/api/ingest/report/{id}");

        var shown = JsonSerializer.Deserialize<List<FilesText>>(await page.EvaluateAsync<string>("JSON.stringify(window.__dashboard.files)"), IngestClient.Json)!;
        var latencies = shown.Where(f => !f.Text.StartsWith("0 /", StringComparison.Ordinal)).Select(f => f.At - f.UpdatedAt).Order().ToList();
        TestContext.Out.WriteLine($"{BrowserName}: snapshot → \"X / Y files\" on the job page over {latencies.Count} counts: " +
            $"p50 {Percentile(latencies, 0.5):F1} ms, p95 {Percentile(latencies, 0.95):F1} ms, max {latencies.LastOrDefault():F1} ms");
        Assert.That(latencies, Has.Count.GreaterThanOrEqualTo(Files * 9 / 10), "nearly every count reached the panel on its own");
        // The goal (p95 ≤ 50 ms) is reported above and in the README; here, a bound no push could miss but a poll would.
        Assert.That(Percentile(latencies, 0.95), Is.LessThan(250));

        // While it streamed, nothing was asked again and again, but Hangfire's own counters (/stats, every 2 s).
        var during = requests.Where(r => r.At >= streaming && r.At <= ended && !r.Path.EndsWith("/stats", StringComparison.Ordinal)).ToList();
        Assert.That(during.Select(r => r.Path), Is.Empty, "no request while the stream carried the run");
        Assert.That(requests.Count(r => r.Path == $"/hangfire/ingest/stream/{id}"), Is.EqualTo(1), "one stream, no reconnect, no poll");
    }

    [Test]
    public async Task Without_a_stream_the_job_page_polls_and_still_reaches_the_end()
    {
        await Context.RouteAsync("**/hangfire/ingest/stream/**", route => route.AbortAsync());
        var folder = NewFolder(6);
        HoldAfter(2);
        var (_, job) = await StartAsync(folder);
        var page = await Context.NewPageAsync();
        await page.GotoAsync($"hangfire/jobs/details/{job}");
        var panel = page.Locator("#ingestlite-job");
        await Expect(panel).ToHaveAttributeAsync("data-mode", "POLLING");
        await Expect(panel.Locator("[data-field=files]")).ToHaveTextAsync("2 / 6 files");
        App.Gate.Open();
        await Expect(panel).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 30_000 });
        await Expect(panel.Locator("[data-field=percent]")).ToHaveTextAsync("100%");
    }

    [Test]
    public async Task The_Ingest_page_shows_two_runs_live_and_cancels_one()
    {
        var first = NewFolder(10);
        var second = NewFolder(10);
        HoldAfter(2);
        var (a, _) = await StartAsync(first);
        var (b, _) = await StartAsync(second);

        var page = await Context.NewPageAsync();
        await page.GotoAsync("hangfire");
        await page.Locator("a[href='/hangfire/ingest']").First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/hangfire/ingest$"));
        var rowA = page.Locator($"#ingestlite-session-{a}");
        var rowB = page.Locator($"#ingestlite-session-{b}");
        await Expect(rowA).ToBeVisibleAsync();
        await Expect(rowB).ToBeVisibleAsync();
        await Expect(page.Locator(".page-header [data-field=mode]")).ToHaveTextAsync("LIVE");
        var before = (await rowA.Locator("[data-field=files]").TextContentAsync()) + (await rowB.Locator("[data-field=files]").TextContentAsync());

        // Both move on screen without a reload: four more files between them.
        App.Gate.Release(4);
        await Expect(page.Locator("li.ingestlite-session")).ToHaveCountAsync(2);
        await page.WaitForFunctionAsync(
            "([a, b]) => [a, b].map(id => document.querySelector(`#ingestlite-session-${id} [data-field=files]`).textContent.split(' / ')[0] * 1).reduce((x, y) => x + y) === 6",
            new[] { a, b });
        Assert.That((await rowA.Locator("[data-field=files]").TextContentAsync()) + (await rowB.Locator("[data-field=files]").TextContentAsync()), Is.Not.EqualTo(before));

        await rowA.Locator("button.ingestlite-cancel").ClickAsync();
        var finishedA = page.Locator($"#ingestlite-finished tr[data-session='{a}']");
        await Expect(finishedA).ToHaveAttributeAsync("data-status", "cancelled");
        await Expect(rowA).ToHaveCountAsync(0);
        Assert.That((await Api.StatusAsync(a))["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));

        App.Gate.Open();
        await Expect(page.Locator($"#ingestlite-finished tr[data-session='{b}']")).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 30_000 });
        await Expect(page.Locator("#ingestlite-none")).ToBeVisibleAsync();
        await Expect(page.Locator($"#ingestlite-finished tr[data-session='{b}']")).ToContainTextAsync("10 / 10");
    }

    [Test]
    public async Task The_Processing_list_shows_each_ingests_percent_live()
    {
        var folder = NewFolder(10);
        HoldAfter(2);
        var (_, job) = await StartAsync(folder);
        var page = await Context.NewPageAsync();
        await page.GotoAsync("hangfire/jobs/processing");
        var mark = page.Locator($".ingestlite-pct[data-job='{job}']");
        await Expect(mark).ToHaveTextAsync("20%");
        App.Gate.Release(3);
        await Expect(mark).ToHaveTextAsync("50%");
        App.Gate.Open();
        await Expect(mark).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
    }

    [Test]
    public async Task Delete_cancels_the_run_within_a_second_and_Requeue_resumes_it_without_redoing_a_file()
    {
        const int Files = 12;
        var folder = NewFolder(Files);
        HoldAfter(4);
        var (id, job) = await StartAsync(folder);
        await Api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") == 4);
        await App.Gate.WaitUntilParkedAsync();

        var page = await Context.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GotoAsync($"hangfire/jobs/details/{job}");
        await Expect(page.Locator("#ingestlite-job")).ToHaveAttributeAsync("data-mode", "LIVE");

        // The dashboard asks to confirm (accepted above), posts the delete, then reloads the page. The session is
        // cancelled inside that request (IngestJobStates); without it, Hangfire's own token would stop the job only
        // at its next check (up to 5 s) and the session would read interrupted, not cancelled.
        var registry = App.Services.GetRequiredService<IProgressRegistry>();
        var clock = Stopwatch.StartNew();
        var ended = Task.Run(async () =>
        {
            while (registry.Get(id)?.Snapshot.Status is not { } status || !status.IsTerminal())
            {
                await Task.Delay(2);
            }

            return clock.Elapsed;
        });
        await ClickAndWaitForReloadAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }));
        var took = await ended.WaitAsync(TimeSpan.FromSeconds(10));
        var cancelled = await Api.StatusAsync(id);
        TestContext.Out.WriteLine($"{BrowserName}: click on Delete (with its confirm dialog) → session cancelled in {took.TotalMilliseconds:F0} ms");
        Assert.That(cancelled["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(2)), "cancelled by the Delete itself (the goal, 1 s, is met in the README's figures)");
        Assert.That(IngestClient.Int(cancelled, "stats.committed_files"), Is.EqualTo(4), "the files committed before stay");
        Assert.That(JobState(job), Is.EqualTo("Deleted"));

        // Requeue runs the same job again: it resumes the session, and no committed file is done again.
        await Expect(page.Locator("#ingestlite-job")).ToHaveAttributeAsync("data-status", "cancelled");
        App.Gate.Open();
        await ClickAndWaitForReloadAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Requeue", Exact = true }));
        var done = await Api.WaitUntilAsync(id, s => s["status"]!.GetValue<string>() == "completed", TimeSpan.FromSeconds(30));
        Assert.That(IngestClient.Int(done, "stats.committed_files"), Is.EqualTo(Files));
        var files = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?limit=1000"))["items"]!.AsArray();
        var paths = files.Select(f => f!["path"]!.GetValue<string>()).ToList();
        Assert.That(paths, Is.Unique.And.Count.EqualTo(Files), "each file has one result: none was done twice");
        await WaitForJobStateAsync(job, "Succeeded");
    }

    [Test]
    public async Task A_job_ends_in_the_state_of_its_session()
    {
        var folder = NewFolder(3);
        var (done, doneJob) = await StartAsync(folder);
        await Api.WaitForEndAsync(done);
        await WaitForJobStateAsync(doneJob, "Succeeded");

        HoldAfter(1);
        var (cancelled, cancelledJob) = await StartAsync(NewFolder(3));
        await App.Gate.WaitUntilParkedAsync();
        using (await Http.PostAsync($"api/ingest/cancel/{cancelled}", null))
        {
        }

        await Api.WaitForEndAsync(cancelled);
        await WaitForJobStateAsync(cancelledJob, "Deleted");
    }

    [Test]
    public async Task Every_new_route_answers_only_where_the_dashboard_does()
    {
        var (id, job) = await StartAsync(NewFolder(1));
        await Api.WaitForEndAsync(id);
        foreach (var (method, path) in new[]
                 {
                     ("GET", "hangfire/ingest"), ("GET", "hangfire/ingest/stream"), ("GET", $"hangfire/ingest/stream/{id}"),
                     ("GET", $"hangfire/ingest/status/{id}"), ("GET", "hangfire/ingest/sessions"), ("POST", $"hangfire/ingest/cancel/{id}"),
                     ("GET", $"hangfire/jobs/details/{job}"),
                 })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Add(AppHost.RemoteAddressHeader, "203.0.113.9");
            using var response = await Http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized).Or.EqualTo(HttpStatusCode.Forbidden), $"{method} {path} from a remote address");
        }

        using var local = await Http.GetAsync($"hangfire/ingest/status/{id}");
        Assert.That(local.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the same route from loopback answers");
    }

    [Test]
    public async Task Hostile_file_names_and_errors_are_shown_as_text()
    {
        // In the folder's name (so in the job's name) and in a file's name (so in its error).
        const string Hostile = "<img src=x onerror=alert(1)>";
        var folder = "b-" + Guid.NewGuid().ToString("N")[..8] + " " + Hostile;
        Directory.CreateDirectory(Path.Combine(App.MediaRoot, folder));
        MediaFactory.WritePng(Path.Combine(App.MediaRoot, folder, "fine.png"), 16, 16);
        File.WriteAllText(Path.Combine(App.MediaRoot, folder, Hostile + ".png"), "not a png <script>alert(2)</script>");
        var (id, job) = await StartAsync(folder);
        await Api.WaitForEndAsync(id);

        var dialogs = new List<string>();
        var page = await Context.NewPageAsync();
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            await dialog.DismissAsync();
        };
        await page.GotoAsync($"hangfire/jobs/details/{job}");
        await Expect(page.Locator("h1.page-header")).ToContainTextAsync(Hostile);
        var error = page.Locator("#ingestlite-job .ingestlite-errors li");
        await Expect(error).ToContainTextAsync(Hostile + ".png");
        Assert.That(await page.Locator("img[src=x]").CountAsync(), Is.Zero, "the names are text, not elements");

        foreach (var (list, shows) in new[] { ("hangfire/ingest", id[..8]), ("hangfire/jobs/succeeded", folder[..10]) })
        {
            await page.GotoAsync(list);
            await Expect(page.Locator("body")).ToContainTextAsync(shows);
            Assert.That(await page.Locator("img[src=x]").CountAsync(), Is.Zero, list);
        }

        Assert.That(dialogs, Is.Empty, "no script from a name ran");
    }

    /// <summary>Starts a session over the API and waits until its job has started (its id is then in the snapshot).</summary>
    private async Task<(string Session, string Job)> StartAsync(string folder)
    {
        var id = await Api.StartAsync(new { directory = folder });
        var status = await Api.WaitUntilAsync(id, s => s["job_id"] is not null);
        return (id, status["job_id"]!.GetValue<string>());
    }

    /// <summary>Clicks one of Hangfire's job buttons: it posts the command, then reloads the page.</summary>
    private static async Task ClickAndWaitForReloadAsync(IPage page, ILocator button)
    {
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLoad(object? sender, IPage loaded) => reloaded.TrySetResult();
        page.Load += OnLoad;
        try
        {
            await button.ClickAsync();
            await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            page.Load -= OnLoad;
        }
    }

    private string? JobState(string job) =>
        App.Services.GetRequiredService<JobStorage>().GetMonitoringApi().JobDetails(job)?.History.FirstOrDefault()?.StateName;

    private async Task WaitForJobStateAsync(string job, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (JobState(job) != state)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"job {job} is {JobState(job)}, not {state}");
            await Task.Delay(20);
        }
    }
}
