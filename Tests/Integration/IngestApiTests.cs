using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using IngestLite.Catalog;
using IngestLite.Jobs;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>The ingest API over real HTTP: a generated corpus in, catalog rows and status JSON out.</summary>
public sealed class IngestApiTests : ApiTest
{
    [Test]
    public async Task Broken_files_become_per_file_errors_and_the_rest_is_committed()
    {
        BuildCorpus();
        var id = await Api.StartAsync(new { directory = $"{Folder}/broken" });
        var status = await Api.WaitForEndAsync(id);
        var files = status["error_details"]!.AsArray().Select(e => e!["file"]!.GetValue<string>()).ToList();

        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        Assert.That(files, Does.Contain($"{Folder}/broken/corrupt.png"));
        Assert.That(files, Does.Contain($"{Folder}/broken/zero.png"));
        var catalog = App.Services.GetRequiredService<IMediaCatalog>();
        Assert.That(await catalog.GetMediaAsync($"{Folder}/broken/good.png", CancellationToken.None), Is.Not.Null);
        var stats = status["stats"]!;
        Assert.That(IngestClient.Int(stats, "committed_files") + IngestClient.Int(stats, "errors"), Is.EqualTo(IngestClient.Int(stats, "total_discovered")));
    }

    [Test]
    public async Task Second_run_with_skip_existing_skips_everything()
    {
        WritePngs(Folder, 5);
        var first = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        Assert.That(IngestClient.Int(first, "stats.committed_files"), Is.EqualTo(5));

        using var again = await Api.PostProcessAsync(new { directory = Folder });
        var problem = await again.Content.ReadAsStringAsync();
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), problem);
        Assert.That(problem, Does.Contain("nothing new to ingest"));

        File.WriteAllBytes(Path.Combine(App.MediaRoot, Folder, "img-0.png"), File.ReadAllBytes(Path.Combine(App.MediaRoot, Folder, "img-1.png")));
        var third = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        Assert.That(IngestClient.Int(third, "stats.skipped_existing"), Is.EqualTo(4), "only the changed file is redone");
        Assert.That(IngestClient.Int(third, "stats.committed_files"), Is.EqualTo(1));

        var forced = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder, skip_existing = false }));
        Assert.That(IngestClient.Int(forced, "stats.committed_files"), Is.EqualTo(5));
    }

    [Test]
    public async Task Max_files_limits_the_session_in_sorted_order()
    {
        WritePngs(Folder, 6);
        var id = await Api.StartAsync(new { directory = Folder, max_files = 2, skip_existing = false });
        var status = await Api.WaitForEndAsync(id);
        Assert.That(IngestClient.Int(status, "total_files"), Is.EqualTo(2));
        var hits = await Http.GetStringAsync($"api/media?q={Folder}/");
        Assert.That(hits, Does.Contain("img-0.png").And.Contains("img-1.png").And.Not.Contains("img-2.png"));
    }

    private static readonly object[] BadRequests =
    [
        new object[] { "{}", "parameters" },
        new object[] { "{\"parameters\":{}}", "directory" },
        new object[] { "{\"parameters\":{\"directory\":\"no-such-folder\"}}", "directory" },
        new object[] { "{\"parameters\":{\"directory\":\"../etc\"}}", "directory" },
        new object[] { "{\"parameters\":{\"directory\":\"a/../../etc\"}}", "directory" },
        new object[] { "{\"parameters\":{\"directory\":\"/etc\"}}", "directory" },
        new object[] { "{\"parameters\":{\"directories\":[\".\", \"/tmp\"]}}", "directories[1]" },
        new object[] { "{\"parameters\":{\"directory\":\".\",\"pattern\":\"a/b.png\"}}", "pattern" },
        new object[] { "{\"parameters\":{\"directory\":\".\",\"pattern\":\"*.nomatch\"}}", "pattern" },
        new object[] { "{\"parameters\":{\"directory\":\".\",\"max_files\":0}}", "max_files" },
        new object[] { "{\"parameters\":{\"directory\":\".\",\"recursive\":\"yes\"}}", "parameters.recursive" },
        new object[] { "{\"parameters\":{\"directory\":", "parameters.directory" },
        new object[] { "[1,2]", "body" },
    ];

    [TestCaseSource(nameof(BadRequests))]
    public async Task Bad_input_answers_400_with_problem_details_naming_the_field(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync("api/ingest/process", content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var problem = IngestClient.Parse(text);
        Assert.That(problem["errors"]?[field], Is.Not.Null, $"the problem should name '{field}': {text}");
        Assert.That(problem["detail"]!.GetValue<string>(), Does.StartWith(field + ":"));
    }

    [Test]
    public async Task A_symlinked_folder_out_of_the_root_is_refused()
    {
        BuildCorpus();
        using var response = await Api.PostProcessAsync(new { directory = $"{Folder}/photos/outside-dir" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        Assert.That(text, Does.Contain("outside the media root"));
    }

    [Test]
    public async Task Oversized_body_is_refused()
    {
        using var content = new StringContent("{\"parameters\":{\"directory\":\"" + new string('a', 200_000) + "\"}}", Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync("api/ingest/process", content);
        Assert.That((int)response.StatusCode, Is.EqualTo(413).Or.EqualTo(400), await response.Content.ReadAsStringAsync());
    }

    [TestCase("GET", "api/ingest/status/unknown")]
    [TestCase("POST", "api/ingest/cancel/unknown")]
    [TestCase("POST", "api/ingest/resume/unknown")]
    [TestCase("GET", "api/ingest/commit-status/unknown")]
    [TestCase("GET", "api/ingest/report/unknown")]
    [TestCase("GET", "api/ingest/stream/unknown")]
    public async Task Unknown_session_answers_404(string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        using var response = await Http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task Cancel_stops_the_job_within_a_second_and_resume_finishes_without_duplicates()
    {
        WritePngs(Folder, 60);
        Set("Ingest:MaxFilesPerSecond", "40");

        // Files are being processed when the cancel comes, and the run cannot finish first: the gate holds it after 30.
        HoldAfter(30);
        try
        {
            var id = await Api.StartAsync(new { directory = Folder });
            await Api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 3);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var cancel = await Http.PostAsync($"api/ingest/cancel/{id}", null))
            {
                Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            var cancelled = await Api.WaitForEndAsync(id, TimeSpan.FromSeconds(5));
            clock.Stop();
            Assert.That(cancelled["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "cancel must stop the job within a second");
            var committedAtCancel = IngestClient.Int(cancelled, "stats.committed_files");
            Assert.That(committedAtCancel, Is.InRange(1, 59));
            await Task.Delay(300);
            Assert.That(IngestClient.Int(await Api.StatusAsync(id), "stats.committed_files"), Is.EqualTo(committedAtCancel), "nothing runs after cancel");

            App.Gate.Open();
            using (var resume = await Http.PostAsync($"api/ingest/resume/{id}", null))
            {
                Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.OK), await resume.Content.ReadAsStringAsync());
            }

            var done = await Api.WaitForEndAsync(id);
            Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"));
            Assert.That(IngestClient.Int(done, "stats.committed_files"), Is.EqualTo(60));
            Assert.That(IngestClient.Int(done, "processed_files"), Is.EqualTo(60));
            var catalog = App.Services.GetRequiredService<ISessionStore>();
            var results = await catalog.FileResultsAsync(id, null, 1000, CancellationToken.None);
            Assert.That(results.Select(r => r.Path).Distinct().Count(), Is.EqualTo(60), "each file has exactly one result");

            using var again = await Http.PostAsync($"api/ingest/resume/{id}", null);
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "a completed session cannot be resumed");
        }
        finally
        {
            Set("Ingest:MaxFilesPerSecond", null);
        }
    }

    [Test]
    public async Task Sessions_active_session_report_and_delete()
    {
        WritePngs(Folder, 3, name: "<b>x");
        var id = await Api.StartAsync(new { directory = Folder });
        await Api.WaitForEndAsync(id);

        var sessions = JsonNode.Parse(await Http.GetStringAsync("api/ingest/sessions"))!.AsArray();
        Assert.That(sessions[0]!["session_id"]!.GetValue<string>(), Is.EqualTo(id), "newest first");
        var active = IngestClient.Parse(await Http.GetStringAsync("api/ingest/active-session"));
        Assert.That(active["session_id"]!.GetValue<string>(), Is.EqualTo(id), "nothing runs: the newest session, finished, until it is deleted (as upstream)");
        Assert.That(active["status"]!.GetValue<string>(), Is.EqualTo("completed"));

        var report = await Http.GetStringAsync($"api/ingest/report/{id}");
        Assert.That(report, Does.Contain("&lt;b&gt;x").And.Not.Contains("<b>x"), "file names are HTML-encoded");
        Assert.That(report, Does.Contain("completed"));

        using var delete = await Http.DeleteAsync($"api/ingest/session/{id}");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(IngestClient.Parse(await delete.Content.ReadAsStringAsync())["status"]!.GetValue<string>(), Is.EqualTo("cleaned_up"));
        using var gone = await Http.GetAsync($"api/ingest/status/{id}");
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        using var again = await Http.DeleteAsync($"api/ingest/session/{id}");
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a session already gone is cleaned up too (upstream answers 200)");
        using var malformed = await Http.DeleteAsync("api/ingest/session/not-a-session");
        Assert.That(malformed.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Directory_browser_counts_media_and_ingested_files_and_stays_in_the_root()
    {
        WritePngs(Folder, 4);
        Directory.CreateDirectory(Path.Combine(App.MediaRoot, Folder, "sub", ".hidden"));
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder, max_files = 3 }));

        var root = IngestClient.Parse(await Http.GetStringAsync("api/ingest/directories"));
        var entry = root["directories"]!.AsArray().Single(d => d!["name"]!.GetValue<string>() == Folder)!;
        Assert.That(IngestClient.Int(entry, "total_files"), Is.EqualTo(4));
        Assert.That(IngestClient.Int(entry, "ingested_files"), Is.EqualTo(3));
        Assert.That(entry["has_children"]!.GetValue<bool>(), Is.True);

        var mediaRoot = App.Services.GetRequiredService<MediaRoot>().FullPath;
        Assert.That(root["path"]!.GetValue<string>(), Is.EqualTo(mediaRoot), "paths are absolute, as upstream sends them");
        Assert.That(root["parent"], Is.Null, "no parent at the root");
        Assert.That(root["relative_path"]!.GetValue<string>(), Is.EqualTo(""));
        Assert.That(entry["path"]!.GetValue<string>(), Is.EqualTo(Path.Combine(mediaRoot, Folder)));
        Assert.That(entry["relative_path"]!.GetValue<string>(), Is.EqualTo(Folder));

        var inside = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/directories?path={Folder}"));
        Assert.That(inside["parent"]!.GetValue<string>(), Is.EqualTo(mediaRoot), "a first-level folder's parent is the root (upstream's page shows its Parent button)");
        Assert.That(inside["relative_parent"]!.GetValue<string>(), Is.EqualTo(""));
        Assert.That(inside["directories"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()), Is.EqualTo(new[] { "sub" }), "hidden folders are not listed");
        Assert.That(IngestClient.Int(inside, "files.total_files"), Is.EqualTo(4));
        Assert.That(inside["file_summary"]!.GetValue<string>(), Is.EqualTo("4 png"), "upstream's text");

        var absolute = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/directories?path={Uri.EscapeDataString(Path.Combine(mediaRoot, Folder, "sub"))}"));
        Assert.That(absolute["relative_path"]!.GetValue<string>(), Is.EqualTo($"{Folder}/sub"), "an absolute path inside the root is accepted");
        Assert.That(absolute["file_summary"]!.GetValue<string>(), Is.EqualTo("No files"));
        using (var missing = await Http.GetAsync($"api/ingest/directories?path={Folder}/nope"))
        {
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "as upstream: 404 for a folder that does not exist");
        }

        foreach (var bad in new[] { "..", "%2e%2e", "/etc", $"{Folder}/../.." })
        {
            using var response = await Http.GetAsync($"api/ingest/directories?path={bad}");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), bad);
        }
    }

    [Test]
    public async Task Media_search_finds_by_keyword_prompt_and_name()
    {
        var dir = FolderPath;
        MediaFactory.WritePng(Path.Combine(dir, "zebra-file.png"), 16, 16, [("parameters", MediaFactory.A1111Parameters("striped horse, savanna sunset", "ugly", 20, "Euler a", 7, 1, "m"))], seed: 3);
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));

        foreach (var query in new[] { "savanna sunset", "striped", "zebra-file" })
        {
            var result = IngestClient.Parse(await Http.GetStringAsync($"api/media?q={Uri.EscapeDataString(query)}"));
            Assert.That(result["items"]!.AsArray().Select(i => i!["path"]!.GetValue<string>()), Does.Contain($"{Folder}/zebra-file.png"), query);
        }

        var none = IngestClient.Parse(await Http.GetStringAsync("api/media?q=definitely-not-there-xyz"));
        Assert.That(IngestClient.Int(none, "count"), Is.EqualTo(0));
        using var bad = await Http.GetAsync("api/media?limit=0");
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Hangfire_dashboard_answers_local_requests()
    {
        using var response = await Http.GetAsync("hangfire");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    /// <summary>The standard corpus in this test's folder; its escape targets live outside the media root.</summary>
    private StandardCorpus BuildCorpus() =>
        MediaFactory.BuildStandardCorpus(FolderPath, Path.Combine(App.WorkDirectory, "outside-" + Folder));

    internal static void WritePngs(string folder, int count, string name = "img")
    {
        for (var i = 0; i < count; i++)
        {
            MediaFactory.WritePng(Path.Combine(App.MediaRoot, folder, $"{name}-{i}.png"), 16, 16, null, seed: (byte)i);
        }
    }
}
