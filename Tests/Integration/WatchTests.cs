using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using IngestLite.Jobs.Watching;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>
/// Watched folders through the API: a watch is a session that stays <c>watching</c> while complete files arrive.
/// The suite's host settles files after 0.3 s and reconciles every 2 s. Waits are for things that must happen, with
/// generous deadlines; nothing here hopes a run is slow or fast.
/// </summary>
public sealed class WatchTests : ApiTest
{
    private readonly List<string> _watches = [];

    [TearDown]
    public async Task RemoveWatches()
    {
        foreach (var id in _watches)
        {
            using var _ = await Http.DeleteAsync($"api/watch/{id}");
        }
    }

    [Test]
    public async Task Files_written_into_a_watched_folder_reach_the_catalog_and_its_session_and_temporary_names_never_do()
    {
        var (watchId, sessionId) = await WatchAsync(new { directory = Folder, recursive = true });
        var status = await Api.StatusAsync(sessionId);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("watching"));

        MediaFactory.WritePng(Path.Combine(FolderPath, "a.png"), 16, 16, [("parameters", MediaFactory.A1111Parameters("a red fox"))], seed: 1);
        MediaFactory.WritePng(Path.Combine(FolderPath, "sub", "b.png"), 16, 16, null, seed: 2);
        MediaFactory.WritePng(Path.Combine(FolderPath, "c.png.tmp"), 16, 16, null, seed: 3);
        MediaFactory.WritePng(Path.Combine(FolderPath, "d.png.part"), 16, 16, null, seed: 4);
        MediaFactory.WritePng(Path.Combine(FolderPath, ".hidden.png"), 16, 16, null, seed: 5);

        await WaitForCatalogAsync(["a.png", "sub/b.png"]);
        status = await Api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.committed_files") == 2);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("watching"), "a watch's session never finishes while it watches");
        Assert.That(IngestClient.Int(status, "total_files"), Is.EqualTo(2));

        // A1111 and browsers write to a temporary name and rename it when done: the final name is taken.
        File.Move(Path.Combine(FolderPath, "c.png.tmp"), Path.Combine(FolderPath, "c.png"));
        await WaitForCatalogAsync(["a.png", "c.png", "sub/b.png"]);

        // Two reconciles later, the temporary and hidden files are still out.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        Assert.That(await CatalogedAsync(), Is.EqualTo(new[] { "a.png", "c.png", "sub/b.png" }));
        var listed = JsonNode.Parse(await Http.GetStringAsync("api/watch"))!.AsArray();
        var mine = listed.Single(w => w!["watch_id"]!.GetValue<string>() == watchId)!;
        Assert.That(mine["session_id"]!.GetValue<string>(), Is.EqualTo(sessionId));
        Assert.That(mine["mode"]!.GetValue<string>(), Does.StartWith("watching: file events"));
    }

    [Test]
    public async Task A_modified_file_is_ingested_again_a_renamed_or_moved_one_keeps_its_row_and_score_and_a_deleted_one_is_marked_missing()
    {
        await WatchAsync(new { directory = Folder, recursive = true });
        MediaFactory.WriteScoreSidecar(Path.Combine(FolderPath, "a.png"), "{\"score\": 4}");
        MediaFactory.WritePng(Path.Combine(FolderPath, "a.png"), 16, 16, null, seed: 1);
        await WaitForCatalogAsync(["a.png"]);
        var first = (await SearchAsync()).Single();
        var id = first["id"]!.GetValue<long>();
        Assert.That(first["score"]!.GetValue<double>(), Is.EqualTo(4));

        // Renamed: the same row, score and all (the sidecar stayed under the old name).
        File.Move(Path.Combine(FolderPath, "a.png"), Path.Combine(FolderPath, "b.png"));
        await WaitForCatalogAsync(["b.png"]);
        var renamed = (await SearchAsync()).Single();
        Assert.That((renamed["id"]!.GetValue<long>(), renamed["score"]!.GetValue<double>()), Is.EqualTo((id, 4.0)));

        // Modified: ingested again (a new hash), still the same row.
        MediaFactory.WritePng(Path.Combine(FolderPath, "b.png"), 24, 24, null, seed: 9);
        var modified = await WaitForItemAsync("b.png", item => item["sha256"]!.GetValue<string>() != renamed["sha256"]!.GetValue<string>());
        Assert.That((modified["id"]!.GetValue<long>(), modified["width"]!.GetValue<int>()), Is.EqualTo((id, 24)));

        // Deleted: kept, marked missing.
        var content = await File.ReadAllBytesAsync(Path.Combine(FolderPath, "b.png"));
        File.Delete(Path.Combine(FolderPath, "b.png"));
        await WaitForItemAsync("b.png", item => item["missing_at"] is not null);

        // The same content again under another name (moved back in from elsewhere): the missing row moves to it.
        Directory.CreateDirectory(Path.Combine(FolderPath, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(FolderPath, "sub", "c.png"), content);
        var back = await WaitForItemAsync("sub/c.png", item => item["missing_at"] is null);
        Assert.That(back["id"]!.GetValue<long>(), Is.EqualTo(id), "matched by content hash: the same row");
        Assert.That(await CatalogedAsync(), Is.EqualTo(new[] { "sub/c.png" }), "no duplicate, nothing left behind");

        // A folder removed and restored comes back without duplicates.
        var sub = Path.Combine(FolderPath, "sub");
        Directory.Delete(sub, recursive: true);
        await WaitForItemAsync("sub/c.png", item => item["missing_at"] is not null);
        Directory.CreateDirectory(sub);
        await File.WriteAllBytesAsync(Path.Combine(sub, "c.png"), content);
        var restored = await WaitForItemAsync("sub/c.png", item => item["missing_at"] is null);
        Assert.That(restored["id"]!.GetValue<long>(), Is.EqualTo(id));
        Assert.That(await CatalogedAsync(), Is.EqualTo(new[] { "sub/c.png" }));
    }

    [Test]
    public async Task A_file_is_taken_once_it_stops_changing_not_while_it_is_written()
    {
        var (_, sessionId) = await WatchAsync(new { directory = Folder });
        var path = Path.Combine(FolderPath, "growing.png");
        MediaFactory.WritePng(Path.Combine(FolderPath, "source.bin.tmp"), 256, 256, null, seed: 9);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(FolderPath, "source.bin.tmp"));

        // Written in pieces, each sooner after the last than the stability period (0.3 s): a file still being written.
        // The pieces are paced by this test, so it knows the file was never still for 0.3 s until it ends.
        await using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
        {
            for (var offset = 0; offset < bytes.Length; offset += bytes.Length / 8 + 1)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(bytes.Length / 8 + 1, bytes.Length - offset)));
                await stream.FlushAsync();
                await Task.Delay(100);
            }
        }

        var status = await Api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.committed_files") == 1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        status = await Api.StatusAsync(sessionId);
        Assert.That(IngestClient.Int(status, "stats.committed_files"), Is.EqualTo(1), "taken once, whole: a partial file would have been taken again when it grew");
        Assert.That(IngestClient.Int(status, "stats.errors"), Is.EqualTo(0));
        var hit = (await SearchAsync()).Single();
        Assert.That(hit["size"]!.GetValue<long>(), Is.EqualTo(bytes.Length));
    }

    [Test]
    public async Task Ten_thousand_files_dropped_at_once_are_one_rescan_not_an_event_storm()
    {
        var (watchId, sessionId) = await WatchAsync(new { directory = Folder, recursive = true });
        const int Files = 10_000;

        // Written elsewhere, then moved in as one folder and as loose files: what a copy of a finished batch looks like.
        var staging = Path.Combine(App.WorkDirectory, "staging-" + Guid.NewGuid().ToString("N")[..8]);
        for (var i = 0; i < Files; i++)
        {
            MediaFactory.WritePng(Path.Combine(staging, i < Files / 2 ? "batch" : "", $"img-{i:D5}.png"), 8, 8, null, seed: (byte)i);
        }

        Directory.Move(Path.Combine(staging, "batch"), Path.Combine(FolderPath, "batch"));
        foreach (var file in Directory.GetFiles(staging))
        {
            File.Move(file, Path.Combine(FolderPath, Path.GetFileName(file)));
        }

        var status = await Api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.committed_files") == Files, TimeSpan.FromMinutes(3));
        Assert.That(IngestClient.Int(status, "stats.errors"), Is.Zero);
        Assert.That(IngestClient.Int(status, "total_files"), Is.EqualTo(Files), "each file handed over once");
        var watch = JsonNode.Parse(await Http.GetStringAsync("api/watch"))!.AsArray().Single(w => w!["watch_id"]!.GetValue<string>() == watchId)!;
        Assert.That(watch["bursts"]!.GetValue<int>(), Is.InRange(1, 20), "the burst collapsed into rescans");
        Assert.That(watch["peak_queued_events"]!.GetValue<int>(), Is.LessThanOrEqualTo(500), "events never pile up beyond Watch:BurstLimit");

        // Memory stays flat: once the catalog holds them, the watch forgets the paths it handed over (next reconcile).
        var folder = App.Services.GetRequiredService<WatchService>().Find(watchId)!;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); folder.Remembered > 0; await Task.Delay(50))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the watch still remembers {folder.Remembered} of the {Files} committed files");
        }

        TestSuite.TryDelete(staging);
    }

    [Test]
    public async Task A_symlink_loop_in_a_watched_folder_neither_hangs_nor_repeats_files()
    {
        Directory.CreateDirectory(Path.Combine(FolderPath, "deep"));
        Directory.CreateSymbolicLink(Path.Combine(FolderPath, "deep", "loop"), FolderPath);
        var (_, sessionId) = await WatchAsync(new { directory = Folder, recursive = true });

        MediaFactory.WritePng(Path.Combine(FolderPath, "deep", "x.png"), 16, 16, null, seed: 1);
        await WaitForCatalogAsync(["deep/x.png"]);

        // Two reconciles later: still one file, one ingest, and the watch still watching.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        Assert.That(await CatalogedAsync(), Is.EqualTo(new[] { "deep/x.png" }));
        var status = await Api.StatusAsync(sessionId);
        Assert.That((status["status"]!.GetValue<string>(), IngestClient.Int(status, "stats.committed_files")), Is.EqualTo(("watching", 1)));
    }

    [Test]
    public async Task Without_file_events_a_watch_reconciles_and_says_so()
    {
        App.FolderEvents.Refuse(FolderPath);
        var (watchId, sessionId) = await WatchAsync(new { directory = Folder });
        MediaFactory.WritePng(Path.Combine(FolderPath, "late.png"), 16, 16, null, seed: 7);

        await WaitForCatalogAsync(["late.png"]);
        var status = await Api.StatusAsync(sessionId);
        Assert.That(status["message"]!.GetValue<string>(), Does.StartWith("reconcile only").And.Contain("inotify"));
        var listed = JsonNode.Parse(await Http.GetStringAsync("api/watch"))!.AsArray();
        Assert.That(listed.Single(w => w!["watch_id"]!.GetValue<string>() == watchId)!["mode"]!.GetValue<string>(), Does.StartWith("reconcile only"));
    }

    [Test]
    public async Task Past_the_inotify_watch_limit_a_watch_falls_back_to_reconciling_and_says_so()
    {
        var (watchId, sessionId) = await WatchAsync(new { directory = Folder, recursive = true });
        await Api.WaitUntilAsync(sessionId, s => s["message"]?.GetValue<string>()?.StartsWith("watching: file events", StringComparison.Ordinal) == true);

        // .NET's watcher could not watch a sub-folder (ENOSPC): it says so once and goes on without that folder.
        App.FolderEvents.ReachWatchLimit(FolderPath);
        var status = await Api.WaitUntilAsync(sessionId, s => s["message"]?.GetValue<string>()?.StartsWith("reconcile only", StringComparison.Ordinal) == true);
        Assert.That(status["message"]!.GetValue<string>(), Does.Contain("inotify watches"));
        MediaFactory.WritePng(Path.Combine(FolderPath, "deep", "er", "late.png"), 16, 16, null, seed: 7);
        await WaitForCatalogAsync(["deep/er/late.png"]);
        var listed = JsonNode.Parse(await Http.GetStringAsync("api/watch"))!.AsArray();
        Assert.That(listed.Single(w => w!["watch_id"]!.GetValue<string>() == watchId)!["mode"]!.GetValue<string>(), Does.StartWith("reconcile only"));
    }

    [Test]
    public async Task Each_batch_is_a_hangfire_job_whose_page_shows_the_watch_and_cancelling_the_session_stops_the_watch()
    {
        var (watchId, sessionId) = await WatchAsync(new { directory = Folder });
        MediaFactory.WritePng(Path.Combine(FolderPath, "a.png"), 16, 16, null, seed: 1);
        var status = await Api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.committed_files") == 1 && s["job_id"] is not null);

        // The dashboard's link from the session leads to its latest batch, whose page carries the session's live panel.
        var job = status["job_id"]!.GetValue<string>();
        var page = await Http.GetStringAsync($"hangfire/jobs/details/{job}");
        Assert.That(page, Does.Contain("id=\"ingestlite-job\"").And.Contain($"data-session=\"{sessionId}\""));

        // The page's Cancel (and any API client's) ends the watch, not only the batch in flight.
        using (var cancelled = await Http.PostAsync($"api/ingest/cancel/{sessionId}", null))
        {
            Assert.That(cancelled.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        _watches.Remove(watchId);
        status = await Api.StatusAsync(sessionId);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        var listed = JsonNode.Parse(await Http.GetStringAsync("api/watch"))!.AsArray();
        Assert.That(listed.Any(w => w!["watch_id"]!.GetValue<string>() == watchId), Is.False);
    }

    [Test]
    public async Task A_watched_folder_that_goes_away_is_reported_and_watched_again_when_it_returns()
    {
        var (_, sessionId) = await WatchAsync(new { directory = Folder, recursive = true });
        MediaFactory.WritePng(Path.Combine(FolderPath, "first.png"), 16, 16, null, seed: 1);
        await WaitForCatalogAsync(["first.png"]);

        Directory.Delete(FolderPath, recursive: true);
        await Api.WaitUntilAsync(sessionId, s => s["message"]?.GetValue<string>()?.Contains("missing", StringComparison.Ordinal) == true);

        MediaFactory.WritePng(Path.Combine(FolderPath, "first.png"), 16, 16, null, seed: 1);
        MediaFactory.WritePng(Path.Combine(FolderPath, "second.png"), 16, 16, null, seed: 2);
        await WaitForCatalogAsync(["first.png", "second.png"]);
        var status = await Api.WaitUntilAsync(sessionId, s => s["message"]?.GetValue<string>()?.StartsWith("watching", StringComparison.Ordinal) == true);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("watching"));
    }

    [Test]
    public async Task Bad_requests_are_400_naming_the_field_and_a_removed_watch_ends_its_session()
    {
        async Task ExpectAsync(object body, string field)
        {
            using var response = await Http.PostAsJsonAsync("api/watch", body);
            var problem = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), problem);
            Assert.That(problem, Does.Contain(field));
        }

        await ExpectAsync(new { pattern = "*.png" }, "directory");
        await ExpectAsync(new { directory = "../outside" }, "directory");
        await ExpectAsync(new { directory = Folder + "/nope" }, "directory");
        await ExpectAsync(new { directory = Folder, pattern = "*.png||*.jpg" }, "pattern");
        await ExpectAsync(new { directories = new[] { Folder } }, "directories");
        await ExpectAsync(new { directory = Folder, commit_mode = "deferred" }, "commit_mode");
        var (watchId, sessionId) = await WatchAsync(new { directory = Folder });
        await ExpectAsync(new { directory = Folder }, "directory");

        using (var missing = await Http.DeleteAsync("api/watch/no-such-watch"))
        {
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        using (var removed = await Http.DeleteAsync($"api/watch/{watchId}"))
        {
            Assert.That(removed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        _watches.Remove(watchId);
        var status = await Api.StatusAsync(sessionId);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        var listed = JsonNode.Parse(await Http.GetStringAsync("api/watch"))!.AsArray();
        Assert.That(listed.Any(w => w!["watch_id"]!.GetValue<string>() == watchId), Is.False);
    }

    private async Task<(string WatchId, string SessionId)> WatchAsync(object body)
    {
        using var response = await Http.PostAsJsonAsync("api/watch", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), text);
        var json = IngestClient.Parse(text);
        var id = json["watch_id"]!.GetValue<string>();
        _watches.Add(id);
        return (id, json["session_id"]!.GetValue<string>());
    }

    private async Task<List<JsonNode>> SearchAsync() =>
        [.. IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Uri.EscapeDataString(Folder)}&sort=name&limit=500"))["items"]!.AsArray().Select(i => i!)];

    /// <summary>The catalogued paths under this test's folder, relative to it, in order.</summary>
    private async Task<List<string>> CatalogedAsync() =>
        [.. (await SearchAsync()).Select(i => i["path"]!.GetValue<string>()[(Folder.Length + 1)..]).Order(StringComparer.Ordinal)];

    /// <summary>Waits until the catalog's row for <paramref name="relative"/> satisfies <paramref name="condition"/>.</summary>
    private async Task<JsonNode> WaitForItemAsync(string relative, Func<JsonNode, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var items = await SearchAsync();
            if (items.FirstOrDefault(i => i["path"]!.GetValue<string>() == $"{Folder}/{relative}") is { } item && condition(item))
            {
                return item;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"{relative} never got there: {string.Join(", ", items.Select(i => i.ToJsonString()))}");
            await Task.Delay(50);
        }
    }

    private async Task WaitForCatalogAsync(string[] expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<string> found;
        while (!(found = await CatalogedAsync()).SequenceEqual(expected))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the catalog holds [{string.Join(", ", found)}], not [{string.Join(", ", expected)}]");
            await Task.Delay(50);
        }
    }
}
