using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using IngestLite.Jobs;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>
/// Upstream's API (media_scoring's <c>ingest_v2.py</c>) as its clients use it: every endpoint, status code and key,
/// and both commit modes. The real clients themselves run in Tests/Compat.
/// </summary>
public sealed class UpstreamApiTests : ApiTest
{
    private static readonly string[] UpstreamStatusKeys =
        ["session_id", "status", "progress", "total_files", "current_file", "processed_files", "stats", "errors", "start_time", "end_time"];

    private static readonly string[] UpstreamStatsKeys =
        ["total_files", "total_discovered", "skipped_existing", "processed_files", "metadata_extracted", "keywords_added", "scores_imported", "nsfw_detected", "errors"];

    [Test]
    public async Task Status_has_every_key_upstream_sends_with_the_file_name_in_current_file()
    {
        Directory.CreateDirectory(Path.Combine(FolderPath, "deep"));
        MediaFactory.WritePng(Path.Combine(FolderPath, "deep", "one.png"), 16, 16, null, seed: 1);
        MediaFactory.WritePng(Path.Combine(FolderPath, "deep", "two.png"), 16, 16, null, seed: 2);
        HoldAfter(1);
        var id = await Api.StartAsync(new { directory = $"{Folder}/deep", enable_nsfw_detection = true, nsfw_threshold = 0.5 });
        await App.Gate.WaitUntilParkedAsync();

        var running = await Api.WaitUntilAsync(id, s => s["current_file"] is not null);
        Assert.That(running.Select(p => p.Key), Is.SupersetOf(UpstreamStatusKeys));
        Assert.That(running["stats"]!.AsObject().Select(p => p.Key), Is.SupersetOf(UpstreamStatsKeys));
        Assert.That(running["current_file"]!.GetValue<string>(), Is.EqualTo("one.png"), "the name, as upstream shows it");
        Assert.That(running["current_path"]!.GetValue<string>(), Is.EqualTo($"{Folder}/deep/one.png"), "the path in the media root, for IngestLite's page");
        Assert.That(IngestClient.Int(running, "stats.nsfw_detected"), Is.Zero, "IngestLite has no NSFW classifier");
        Assert.That(running["error"], Is.Null, "error is set only for a session that ends in error");

        App.Gate.Open();
        var final = await Api.WaitForEndAsync(id);
        Assert.That(final["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        Assert.That(final["commit_mode"]!.GetValue<string>(), Is.EqualTo("per_file"), "the default mode");
    }

    [Test]
    public void A_session_that_ends_in_error_carries_its_reason_in_error_too()
    {
        var now = DateTimeOffset.UtcNow;
        var failed = new ProgressSnapshot("s", SessionStatus.Error, 0, 1, null, null, 0, now, now, SessionStats.Empty, [], [], 3, now, 0, null,
            Message: "the catalog cannot be reached");
        var json = JsonNode.Parse(ProgressWire.Serialize(failed))!;
        Assert.That(json["error"]!.GetValue<string>(), Is.EqualTo("the catalog cannot be reached"), "the proposal's client reads status.error");
        Assert.That(json["message"]!.GetValue<string>(), Is.EqualTo("the catalog cannot be reached"));
        Assert.That(JsonNode.Parse(ProgressWire.Serialize(failed with { Status = SessionStatus.Cancelled }))!["error"], Is.Null);
    }

    [Test]
    public async Task Nsfw_parameters_are_accepted_and_checked()
    {
        IngestApiTests.WritePngs(Folder, 1);
        using var response = await Api.PostProcessAsync(new { directory = Folder, enable_nsfw_detection = true, nsfw_threshold = 1.5 });
        var problem = IngestClient.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(problem["errors"]!["nsfw_threshold"], Is.Not.Null, problem.ToJsonString());
    }

    [Test]
    public async Task File_types_lists_the_media_extensions_directly_in_the_folders()
    {
        IngestApiTests.WritePngs(Folder, 2);
        MediaFactory.WriteJpeg(Path.Combine(FolderPath, "photo.JPG"), 16, 16, null);
        File.WriteAllText(Path.Combine(FolderPath, "notes.txt"), "not media");
        Directory.CreateDirectory(Path.Combine(FolderPath, "nested"));
        File.WriteAllBytes(Path.Combine(FolderPath, "nested", "clip.mp4"), [0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p']);

        var mediaRoot = App.Services.GetRequiredService<MediaRoot>().FullPath;
        var types = await PostJsonAsync("api/ingest/file-types", new[] { Path.Combine(mediaRoot, Folder), $"{Folder}/gone" });
        Assert.That(types.StatusCode, Is.EqualTo(HttpStatusCode.OK), types.Body);
        Assert.That(types.Json!["file_types"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "jpg", "png" }),
            "without the dot, sorted, not recursive (as upstream), a folder that no longer exists adds nothing");

        var nested = await PostJsonAsync("api/ingest/file-types", new[] { $"{Folder}/nested" });
        Assert.That(nested.Json!["file_types"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "mp4" }), "relative paths work too");

        foreach (var (body, field) in new (object Body, string Field)[] { (new[] { Folder, "/etc" }, "[1]"), (new[] { $"{Folder}/../.." }, "[0]"), (new { folders = 1 }, "body") })
        {
            var refused = await PostJsonAsync("api/ingest/file-types", body);
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), refused.Body);
            Assert.That(refused.Json!["errors"]![field], Is.Not.Null, $"names the field: {refused.Body}");
        }
    }

    [Test]
    public async Task Per_file_commit_is_accepted_at_once_and_reports_the_real_counts()
    {
        IngestApiTests.WritePngs(Folder, 3);
        HoldAfter(1);
        var id = await Api.StartAsync(new { directory = Folder });
        await App.Gate.WaitUntilParkedAsync();

        var early = await PostJsonAsync("api/ingest/commit", new { session_id = id });
        Assert.That(early.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), $"processing has not completed: {early.Body}");
        App.Gate.Open();
        await Api.WaitForEndAsync(id);
        Assert.That(await CatalogCountAsync(), Is.EqualTo(3), "per-file: in the catalog as they were processed");

        var commit = await PostJsonAsync("api/ingest/commit", new { session_id = id });
        Assert.That(commit.StatusCode, Is.EqualTo(HttpStatusCode.OK), commit.Body);
        Assert.That(commit.Json!["session_id"]!.GetValue<string>(), Is.EqualTo(id));
        Assert.That(commit.Json["status"]!.GetValue<string>(), Is.EqualTo("commit_started"));

        var status = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/commit-status/{id}"));
        Assert.That(status.Select(p => p.Key), Is.SupersetOf(new[] { "session_id", "status", "commit_progress", "commit_errors", "commit_error" }));
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("committed"));
        Assert.That(IngestClient.Int(status, "commit_progress"), Is.EqualTo(100));
        Assert.That(status["commit_errors"]!.AsArray(), Is.Empty);
        Assert.That(status["commit_error"], Is.Null);
        Assert.That(IngestClient.Int(status, "committed_files"), Is.EqualTo(3));
        Assert.That((await Api.StatusAsync(id))["status"]!.GetValue<string>(), Is.EqualTo("committed"));

        var again = await PostJsonAsync("api/ingest/commit", new { session_id = id });
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "committed already");
        var unknown = await PostJsonAsync("api/ingest/commit", new { session_id = Guid.NewGuid().ToString() });
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var missing = await PostJsonAsync("api/ingest/commit", new { });
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(missing.Json!["errors"]!["session_id"], Is.Not.Null);
    }

    [Test]
    public async Task Deferred_session_touches_the_catalog_only_when_committed_and_streams_its_commit()
    {
        IngestApiTests.WritePngs(Folder, 6);
        var id = await Api.StartAsync(new { directory = Folder, commit_mode = "deferred" });
        var completed = await Api.WaitForEndAsync(id);
        Assert.That(completed["status"]!.GetValue<string>(), Is.EqualTo("completed"), "ready to review");
        Assert.That(completed["commit_mode"]!.GetValue<string>(), Is.EqualTo("deferred"));
        Assert.That(IngestClient.Int(completed, "processed_files"), Is.EqualTo(6));
        Assert.That(IngestClient.Int(completed, "stats.committed_files"), Is.Zero);
        Assert.That(await CatalogCountAsync(), Is.Zero, "nothing is written before the commit");
        var files = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?limit=100"))["items"]!.AsArray();
        Assert.That(files.Select(f => f!["state"]!.GetValue<string>()), Is.All.EqualTo("staged"));
        var report = await Http.GetStringAsync($"api/ingest/report/{id}");
        Assert.That(report, Does.Contain("staged"), "the report previews what will be written");

        // The commit waits at the gate after two files: it is in progress for as long as the test looks.
        HoldAfter(2);
        var commit = await PostJsonAsync("api/ingest/commit", new { session_id = id });
        Assert.That(commit.StatusCode, Is.EqualTo(HttpStatusCode.OK), commit.Body);
        await App.Gate.WaitUntilParkedAsync();
        var midway = await Api.WaitUntilAsync(id, s => IngestClient.Int(s, "stats.committed_files") == 2);
        Assert.That(midway["status"]!.GetValue<string>(), Is.EqualTo("committing"));
        var commitStatus = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/commit-status/{id}"));
        Assert.That(commitStatus["status"]!.GetValue<string>(), Is.EqualTo("committing"));
        Assert.That(IngestClient.Int(commitStatus, "commit_progress"), Is.EqualTo(33), "2 of 6");
        Assert.That(await CatalogCountAsync(), Is.EqualTo(2));

        // The same stream as processing carries the commit, from the completed snapshot on, to committed.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await SseReader.OpenAsync(Http, $"api/ingest/stream/{id}", completed["seq"]!.GetValue<long>().ToString(), cts.Token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the session runs again: its stream goes on");
        var events = new List<ReceivedEvent>();
        await foreach (var e in SseReader.ReadAsync(response, cts.Token))
        {
            if (!e.IsSessionSnapshot)
            {
                continue;
            }

            events.Add(e);
            if (events.Count == 1)
            {
                App.Gate.Open();
            }
        }

        var statuses = events.Select(e => IngestClient.Parse(e.Data)["status"]!.GetValue<string>()).ToList();
        Assert.That(statuses[0], Is.EqualTo("committing"));
        Assert.That(statuses[^1], Is.EqualTo("committed"));
        Assert.That(IngestClient.Int(IngestClient.Parse(events[^1].Data), "commit_progress"), Is.EqualTo(100));
        Assert.That(await CatalogCountAsync(), Is.EqualTo(6));
        files = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?limit=100"))["items"]!.AsArray();
        Assert.That(files.Select(f => f!["state"]!.GetValue<string>()), Is.All.EqualTo("committed"));
        var final = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/commit-status/{id}"));
        Assert.That(final["status"]!.GetValue<string>(), Is.EqualTo("committed"));
        Assert.That(IngestClient.Int(final, "committed_files"), Is.EqualTo(6));
    }

    [Test]
    public async Task Deleting_a_deferred_session_before_its_commit_discards_it_and_leaves_the_catalog_as_it_was()
    {
        IngestApiTests.WritePngs(Folder, 4);
        var id = await Api.StartAsync(new { directory = Folder, commit_mode = "deferred" });
        await Api.WaitForEndAsync(id);

        using var delete = await Http.DeleteAsync($"api/ingest/session/{id}");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await CatalogCountAsync(), Is.Zero);
        var commit = await PostJsonAsync("api/ingest/commit", new { session_id = id });
        Assert.That(commit.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "nothing left to commit");

        // The files are new to the catalog: a new session ingests them all.
        var again = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        Assert.That(IngestClient.Int(again, "stats.committed_files"), Is.EqualTo(4));
    }

    [Test]
    public async Task The_setting_chooses_the_mode_and_a_request_overrides_it()
    {
        IngestApiTests.WritePngs(Folder, 1);
        Set("Ingest:CommitMode", "Deferred");
        var deferred = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        Assert.That(deferred["commit_mode"]!.GetValue<string>(), Is.EqualTo("deferred"));
        var perFile = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder, commit_mode = "per_file", skip_existing = false }));
        Assert.That(perFile["commit_mode"]!.GetValue<string>(), Is.EqualTo("per_file"));

        using var bad = await Api.PostProcessAsync(new { directory = Folder, commit_mode = "later" });
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await bad.Content.ReadAsStringAsync(), Does.Contain("commit_mode"));
    }

    [Test]
    public async Task Active_session_is_the_newest_running_one_else_the_newest_not_deleted()
    {
        IngestApiTests.WritePngs(Folder, 2);
        var older = await Api.StartAsync(new { directory = Folder });
        await Api.WaitForEndAsync(older);
        Assert.That(await ActiveAsync(), Is.EqualTo((older, "completed")), "finished sessions stay until deleted, as upstream");

        HoldAfter(0);
        var running = await Api.StartAsync(new { directory = Folder, skip_existing = false });
        Assert.That((await ActiveAsync()).Id, Is.EqualTo(running));
        App.Gate.Open();
        await Api.WaitForEndAsync(running);
        Assert.That(await ActiveAsync(), Is.EqualTo((running, "completed")));

        using (await Http.DeleteAsync($"api/ingest/session/{running}"))
        {
        }

        Assert.That(await ActiveAsync(), Is.EqualTo((older, "completed")), "once deleted, the next newest");
    }

    [Test]
    public async Task The_old_page_address_leads_to_the_new_page()
    {
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = App.BaseAddress };
        using var response = await client.GetAsync("ingest-v2");
        Assert.That((int)response.StatusCode, Is.EqualTo(301));
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo("/"));
    }

    private async Task<(string? Id, string? Status)> ActiveAsync()
    {
        var active = IngestClient.Parse(await Http.GetStringAsync("api/ingest/active-session"));
        return (active["session_id"]?.GetValue<string>(), active["status"]?.GetValue<string>());
    }

    private async Task<int> CatalogCountAsync() =>
        IngestClient.Parse(await Http.GetStringAsync($"api/media?q={Folder}&limit=1000"))["items"]!.AsArray()
            .Count(i => i!["path"]!.GetValue<string>().StartsWith(Folder + "/", StringComparison.Ordinal));

    private async Task<(HttpStatusCode StatusCode, string Body, JsonObject? Json)> PostJsonAsync(string url, object body)
    {
        using var response = await Http.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        JsonObject? json = null;
        try
        {
            json = JsonNode.Parse(text) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return (response.StatusCode, text, json);
    }
}
