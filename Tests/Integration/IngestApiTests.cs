using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using IngestLite.Catalog;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>The ingest API over real HTTP: a generated corpus in, catalog rows and status JSON out.</summary>
public sealed class IngestApiTests
{
    private static AppHost App => TestSuite.App;

    private HttpClient _http = null!;
    private IngestClient _api = null!;
    private string _folder = null!;

    [SetUp]
    public void SetUp()
    {
        _http = App.CreateRealClient();
        _api = new IngestClient(_http);
        _folder = "t-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.Combine(App.MediaRoot, _folder));
    }

    [TearDown]
    public void TearDown() => _http.Dispose();

    [Test]
    public async Task Standard_corpus_is_catalogued_with_metadata_keywords_scores_and_errors()
    {
        var corpus = BuildCorpus();
        MediaFactory.WritePng(Path.Combine(App.MediaRoot, _folder, "photos", "comfy-nul.png"), 24, 24, [("prompt", MediaFactory.ComfyPrompt("dog\0 running,\u0007 park"))], seed: 40);
        var id = await _api.StartAsync(new { directory = $"{_folder}/photos", recursive = true });
        var status = await _api.WaitForEndAsync(id);

        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("completed"), status.ToJsonString());
        var catalog = App.Services.GetRequiredService<CatalogStore>();
        var a1111 = await catalog.GetMediaAsync($"{_folder}/photos/a1111.png", CancellationToken.None);
        Assert.That(a1111, Is.Not.Null, "a1111.png was not committed");
        Assert.Multiple(() =>
        {
            Assert.That(a1111!.Prompt, Does.Contain("a red fox"));
            Assert.That(a1111.NegativePrompt, Is.EqualTo("blurry"));
            Assert.That(a1111.Steps, Is.EqualTo(20));
            Assert.That(a1111.Sampler, Is.EqualTo("Euler a"));
            Assert.That(a1111.CfgScale, Is.EqualTo(7));
            Assert.That(a1111.Seed, Is.EqualTo(12345));
            Assert.That(a1111.Model, Is.EqualTo("sdxl_base"));
            Assert.That(a1111.Keywords, Is.SupersetOf(new[] { "masterpiece", "best quality", "a red fox", "forest" }));
            Assert.That(a1111.Keywords, Has.None.Contains("lora"));
            Assert.That(a1111.Loras, Is.EqualTo(new[] { "foxStyle" }));
            Assert.That(a1111.Score, Is.EqualTo(4.5));
            Assert.That(a1111.Width, Is.GreaterThan(0));
            Assert.That(a1111.Sha256, Has.Length.EqualTo(64));
            Assert.That(a1111.PerceptualHash, Is.Not.Null);
        });

        var comfy = await catalog.GetMediaAsync($"{_folder}/photos/comfy.png", CancellationToken.None);
        Assert.That(comfy?.Keywords, Is.EquivalentTo(new[] { "a blue whale", "ocean" }), "ComfyUI prompt keywords, lower-cased and de-duplicated");
        Assert.That(comfy?.ComfyWorkflow, Is.Not.Null.And.Not.Empty);

        // MetadataExtractor ends a tEXt value at a raw NUL; a JSON-escaped NUL reaches the app and must be stripped.
        var nul = await catalog.GetMediaAsync($"{_folder}/photos/nul-prompt.png", CancellationToken.None);
        Assert.That(nul?.Prompt, Is.EqualTo("cat"));
        var comfyNul = await catalog.GetMediaAsync($"{_folder}/photos/comfy-nul.png", CancellationToken.None);
        Assert.That(comfyNul?.Prompt, Is.EqualTo("dog running, park"), "NUL and control characters are stripped before commit");
        Assert.That(comfyNul?.Keywords, Is.EquivalentTo(new[] { "dog running", "park" }));

        var exif = await catalog.GetMediaAsync($"{_folder}/photos/exif.jpg", CancellationToken.None);
        Assert.That(exif?.TakenAt, Is.EqualTo(new DateTimeOffset(2021, 6, 15, 10, 30, 0, TimeSpan.Zero)));
        Assert.That(await catalog.GetMediaAsync($"{_folder}/photos/upper.JPG", CancellationToken.None), Is.Not.Null, "patterns match case-insensitively");

        var clip = await catalog.GetMediaAsync($"{_folder}/photos/nested/clip.mp4", CancellationToken.None);
        Assert.That(clip?.Kind, Is.EqualTo("video"));
        Assert.That(clip?.DurationSeconds, Is.EqualTo(12.5).Within(0.01));
        Assert.That(await catalog.GetMediaAsync($"{_folder}/photos/nested/deep/inner.png", CancellationToken.None), Is.Not.Null, "recursive walks nested folders");

        Assert.That((await catalog.GetMediaAsync($"{_folder}/photos/bad-score.png", CancellationToken.None))?.Score, Is.Null, "an unreadable sidecar means no score");
        Assert.That((await catalog.GetMediaAsync($"{_folder}/photos/big-score.png", CancellationToken.None))?.Score, Is.EqualTo(0), "a score outside -1..5 reads as 0");
        Assert.That(await catalog.GetMediaAsync($"{_folder}/photos/notes.txt", CancellationToken.None), Is.Null);
        Assert.That(await catalog.GetMediaAsync($"{_folder}/photos/escape.png", CancellationToken.None), Is.Null, "a symlink out of the root is never read");

        var errors = status["error_details"]!.AsArray();
        Assert.That(errors.Select(e => e!["file"]!.GetValue<string>()), Does.Contain($"{_folder}/photos/escape.png"));
        Assert.That(errors.First(e => e!["file"]!.GetValue<string>().EndsWith("escape.png", StringComparison.Ordinal))!["message"]!.GetValue<string>(), Does.Contain("outside the media root"));
        Assert.That(status["errors"]!.AsArray().Select(e => e!.GetValue<string>()), Has.Some.Match(@"escape\.png: stat: "));

        var stats = status["stats"]!;
        Assert.Multiple(() =>
        {
            Assert.That(IngestClient.Int(stats, "committed_files") + IngestClient.Int(stats, "errors") + IngestClient.Int(stats, "skipped_existing"),
                Is.EqualTo(IngestClient.Int(stats, "total_discovered")), "every discovered file is committed, failed or skipped");
            Assert.That(IngestClient.Int(status, "progress"), Is.EqualTo(100));
            Assert.That(IngestClient.Int(stats, "scores_imported"), Is.GreaterThanOrEqualTo(2));
            Assert.That(IngestClient.Int(stats, "metadata_extracted"), Is.GreaterThanOrEqualTo(5));
            Assert.That(IngestClient.Int(stats, "keywords_added"), Is.GreaterThanOrEqualTo(6));
            Assert.That(status["end_time"]!.GetValue<string>(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
            Assert.That(status["updated_at"]!.GetValue<string>(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
        });
        Assert.That(corpus, Is.Not.Null);
    }

    [Test]
    public async Task Broken_files_become_per_file_errors_and_the_rest_is_committed()
    {
        BuildCorpus();
        var id = await _api.StartAsync(new { directory = $"{_folder}/broken" });
        var status = await _api.WaitForEndAsync(id);
        var files = status["error_details"]!.AsArray().Select(e => e!["file"]!.GetValue<string>()).ToList();

        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        Assert.That(files, Does.Contain($"{_folder}/broken/corrupt.png"));
        Assert.That(files, Does.Contain($"{_folder}/broken/zero.png"));
        var catalog = App.Services.GetRequiredService<CatalogStore>();
        Assert.That(await catalog.GetMediaAsync($"{_folder}/broken/good.png", CancellationToken.None), Is.Not.Null);
        var stats = status["stats"]!;
        Assert.That(IngestClient.Int(stats, "committed_files") + IngestClient.Int(stats, "errors"), Is.EqualTo(IngestClient.Int(stats, "total_discovered")));
    }

    [Test]
    public async Task Second_run_with_skip_existing_skips_everything()
    {
        WritePngs(_folder, 5);
        var first = await _api.WaitForEndAsync(await _api.StartAsync(new { directory = _folder }));
        Assert.That(IngestClient.Int(first, "stats.committed_files"), Is.EqualTo(5));

        using var again = await _api.PostProcessAsync(new { directory = _folder });
        var problem = await again.Content.ReadAsStringAsync();
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), problem);
        Assert.That(problem, Does.Contain("nothing new to ingest"));

        File.WriteAllBytes(Path.Combine(App.MediaRoot, _folder, "img-0.png"), File.ReadAllBytes(Path.Combine(App.MediaRoot, _folder, "img-1.png")));
        var third = await _api.WaitForEndAsync(await _api.StartAsync(new { directory = _folder }));
        Assert.That(IngestClient.Int(third, "stats.skipped_existing"), Is.EqualTo(4), "only the changed file is redone");
        Assert.That(IngestClient.Int(third, "stats.committed_files"), Is.EqualTo(1));

        var forced = await _api.WaitForEndAsync(await _api.StartAsync(new { directory = _folder, skip_existing = false }));
        Assert.That(IngestClient.Int(forced, "stats.committed_files"), Is.EqualTo(5));
    }

    [Test]
    public async Task Max_files_limits_the_session_in_sorted_order()
    {
        WritePngs(_folder, 6);
        var id = await _api.StartAsync(new { directory = _folder, max_files = 2, skip_existing = false });
        var status = await _api.WaitForEndAsync(id);
        Assert.That(IngestClient.Int(status, "total_files"), Is.EqualTo(2));
        var hits = await _http.GetStringAsync($"api/media?q={_folder}/");
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
        using var response = await _http.PostAsync("api/ingest/process", content);
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
        using var response = await _api.PostProcessAsync(new { directory = $"{_folder}/photos/outside-dir" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        Assert.That(text, Does.Contain("outside the media root"));
    }

    [Test]
    public async Task Oversized_body_is_refused()
    {
        using var content = new StringContent("{\"parameters\":{\"directory\":\"" + new string('a', 200_000) + "\"}}", Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync("api/ingest/process", content);
        Assert.That((int)response.StatusCode, Is.EqualTo(413).Or.EqualTo(400), await response.Content.ReadAsStringAsync());
    }

    [TestCase("GET", "api/ingest/status/unknown")]
    [TestCase("POST", "api/ingest/cancel/unknown")]
    [TestCase("POST", "api/ingest/resume/unknown")]
    [TestCase("DELETE", "api/ingest/session/unknown")]
    [TestCase("GET", "api/ingest/report/unknown")]
    [TestCase("GET", "api/ingest/stream/unknown")]
    public async Task Unknown_session_answers_404(string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        using var response = await _http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task Cancel_stops_the_job_within_a_second_and_resume_finishes_without_duplicates()
    {
        WritePngs(_folder, 60);
        App.SetSetting("Ingest:MaxFilesPerSecond", "40");
        try
        {
            var id = await _api.StartAsync(new { directory = _folder });
            await _api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 3);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var cancel = await _http.PostAsync($"api/ingest/cancel/{id}", null))
            {
                Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            var cancelled = await _api.WaitForEndAsync(id, TimeSpan.FromSeconds(5));
            clock.Stop();
            Assert.That(cancelled["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)), "cancel must stop the job within a second");
            var committedAtCancel = IngestClient.Int(cancelled, "stats.committed_files");
            Assert.That(committedAtCancel, Is.InRange(1, 59));
            await Task.Delay(300);
            Assert.That(IngestClient.Int(await _api.StatusAsync(id), "stats.committed_files"), Is.EqualTo(committedAtCancel), "nothing runs after cancel");

            using (var resume = await _http.PostAsync($"api/ingest/resume/{id}", null))
            {
                Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.OK), await resume.Content.ReadAsStringAsync());
            }

            var done = await _api.WaitForEndAsync(id);
            Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"));
            Assert.That(IngestClient.Int(done, "stats.committed_files"), Is.EqualTo(60));
            Assert.That(IngestClient.Int(done, "processed_files"), Is.EqualTo(60));
            var catalog = App.Services.GetRequiredService<CatalogStore>();
            var results = await catalog.FileResultsAsync(id, null, 1000, CancellationToken.None);
            Assert.That(results.Select(r => r.Path).Distinct().Count(), Is.EqualTo(60), "each file has exactly one result");

            using var again = await _http.PostAsync($"api/ingest/resume/{id}", null);
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "a completed session cannot be resumed");
        }
        finally
        {
            App.SetSetting("Ingest:MaxFilesPerSecond", null);
        }
    }

    [Test]
    public async Task Sessions_active_session_report_and_delete()
    {
        WritePngs(_folder, 3, name: "<b>x");
        var id = await _api.StartAsync(new { directory = _folder });
        await _api.WaitForEndAsync(id);

        var sessions = JsonNode.Parse(await _http.GetStringAsync("api/ingest/sessions"))!.AsArray();
        Assert.That(sessions[0]!["session_id"]!.GetValue<string>(), Is.EqualTo(id), "newest first");
        var active = IngestClient.Parse(await _http.GetStringAsync("api/ingest/active-session"));
        Assert.That(active["session_id"], Is.Null, "nothing is running");

        var report = await _http.GetStringAsync($"api/ingest/report/{id}");
        Assert.That(report, Does.Contain("&lt;b&gt;x").And.Not.Contains("<b>x"), "file names are HTML-encoded");
        Assert.That(report, Does.Contain("completed"));

        using var delete = await _http.DeleteAsync($"api/ingest/session/{id}");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        using var gone = await _http.GetAsync($"api/ingest/status/{id}");
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Directory_browser_counts_media_and_ingested_files_and_stays_in_the_root()
    {
        WritePngs(_folder, 4);
        Directory.CreateDirectory(Path.Combine(App.MediaRoot, _folder, "sub", ".hidden"));
        await _api.WaitForEndAsync(await _api.StartAsync(new { directory = _folder, max_files = 3 }));

        var root = IngestClient.Parse(await _http.GetStringAsync("api/ingest/directories"));
        var entry = root["directories"]!.AsArray().Single(d => d!["name"]!.GetValue<string>() == _folder)!;
        Assert.That(IngestClient.Int(entry, "total_files"), Is.EqualTo(4));
        Assert.That(IngestClient.Int(entry, "ingested_files"), Is.EqualTo(3));
        Assert.That(entry["has_children"]!.GetValue<bool>(), Is.True);

        var inside = IngestClient.Parse(await _http.GetStringAsync($"api/ingest/directories?path={_folder}"));
        Assert.That(inside["parent"]!.GetValue<string>(), Is.EqualTo(""));
        Assert.That(inside["directories"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()), Is.EqualTo(new[] { "sub" }), "hidden folders are not listed");
        Assert.That(IngestClient.Int(inside, "file_summary.total_files"), Is.EqualTo(4));

        foreach (var bad in new[] { "..", "%2e%2e", "/etc", $"{_folder}/../.." })
        {
            using var response = await _http.GetAsync($"api/ingest/directories?path={bad}");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), bad);
        }
    }

    [Test]
    public async Task Media_search_finds_by_keyword_prompt_and_name()
    {
        var dir = Path.Combine(App.MediaRoot, _folder);
        MediaFactory.WritePng(Path.Combine(dir, "zebra-file.png"), 16, 16, [("parameters", MediaFactory.A1111Parameters("striped horse, savanna sunset", "ugly", 20, "Euler a", 7, 1, "m"))], seed: 3);
        await _api.WaitForEndAsync(await _api.StartAsync(new { directory = _folder }));

        foreach (var query in new[] { "savanna sunset", "striped", "zebra-file" })
        {
            var result = IngestClient.Parse(await _http.GetStringAsync($"api/media?q={Uri.EscapeDataString(query)}"));
            Assert.That(result["items"]!.AsArray().Select(i => i!["path"]!.GetValue<string>()), Does.Contain($"{_folder}/zebra-file.png"), query);
        }

        var none = IngestClient.Parse(await _http.GetStringAsync("api/media?q=definitely-not-there-xyz"));
        Assert.That(IngestClient.Int(none, "count"), Is.EqualTo(0));
        using var bad = await _http.GetAsync("api/media?limit=0");
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Hangfire_dashboard_answers_local_requests()
    {
        using var response = await _http.GetAsync("hangfire");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    /// <summary>The standard corpus in this test's folder; its escape targets live outside the media root.</summary>
    private StandardCorpus BuildCorpus() =>
        MediaFactory.BuildStandardCorpus(Path.Combine(App.MediaRoot, _folder), Path.Combine(App.WorkDirectory, "outside-" + _folder));

    internal static void WritePngs(string folder, int count, string name = "img")
    {
        for (var i = 0; i < count; i++)
        {
            MediaFactory.WritePng(Path.Combine(App.MediaRoot, folder, $"{name}-{i}.png"), 16, 16, null, seed: (byte)i);
        }
    }
}
