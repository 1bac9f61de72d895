using IngestLite.Tests.Support;
using Microsoft.Data.Sqlite;

namespace IngestLite.Tests.Integration;

/// <summary>Hangs, stalls, odd names, garbage media and an unavailable catalog: the run ends, clearly.</summary>
public sealed class ReliabilityTests : ApiTest
{
    [Test]
    public async Task A_file_that_takes_too_long_fails_with_a_timeout_and_the_run_ends()
    {
        MediaFactory.WritePng(Path.Combine(App.MediaRoot, Folder, "huge.png"), 16, 16, [("comment", new string('x', 30_000_000))], seed: 1);
        Set("Ingest:FileTimeout", "00:00:00.001", restore: "00:02:00");
        var status = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }), TimeSpan.FromSeconds(30));

        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        var error = status["error_details"]!.AsArray().Single()!;
        Assert.That(error["stage"]!.GetValue<string>(), Is.EqualTo("timeout"));
        Assert.That(error["message"]!.GetValue<string>(), Does.Contain("abandoned"));
    }

    [Test]
    public async Task The_watchdog_marks_a_session_without_progress_as_stalled_and_progress_clears_it()
    {
        IngestApiTests.WritePngs(Folder, 3);
        Set("Ingest:StallTimeout", "00:00:00.300", restore: "00:01:00");

        // One file, then the run waits at the gate: no progress for as long as the test wants.
        HoldAfter(1);
        var id = await Api.StartAsync(new { directory = Folder });

        var stalled = await Api.WaitUntilAsync(id, s => s["stalled"]?.GetValue<bool>() == true, TimeSpan.FromSeconds(10));
        Assert.That(stalled["message"]!.GetValue<string>(), Does.Contain("no progress for"));
        App.Gate.Open();
        var done = await Api.WaitForEndAsync(id);
        Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        Assert.That(done["stalled"]!.GetValue<bool>(), Is.False, "a real change clears the stall");
    }

    [Test]
    public async Task Long_unicode_and_markup_names_are_ingested_intact()
    {
        var names = new[]
        {
            new string('n', 240) + ".png",
            "日本語の写真 🦊.png",
            "<img src=x onerror=alert(1)>.png",
            "tab\tand\u00a0nbsp.png",
        };
        for (var i = 0; i < names.Length; i++)
        {
            MediaFactory.WritePng(Path.Combine(App.MediaRoot, Folder, names[i]), 8, 8, seed: (byte)i);
        }

        var status = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        Assert.That(IngestClient.Int(status, "stats.committed_files"), Is.EqualTo(names.Length), status.ToJsonString());
        var hits = IngestClient.Parse(await Http.GetStringAsync($"api/media?q={Uri.EscapeDataString(Folder)}&limit=100"));
        Assert.That(hits["items"]!.AsArray().Select(h => h!["path"]!.GetValue<string>()), Is.EquivalentTo(names.Select(n => $"{Folder}/{n}")));
    }

    [Test]
    public async Task Garbage_video_and_malformed_exif_are_per_file_results()
    {
        var dir = FolderPath;
        File.WriteAllBytes(Path.Combine(dir, "garbage.mp4"), [0, 0, 0, 16, (byte)'f', (byte)'t', (byte)'y', (byte)'p', .. new byte[64].Select((_, i) => (byte)(i * 37))]);
        MediaFactory.WriteJpeg(Path.Combine(dir, "exif.jpg"), 16, 16, new DateTime(2020, 1, 1), seed: 2);
        var exif = File.ReadAllBytes(Path.Combine(dir, "exif.jpg"));
        var tiff = exif.AsSpan().IndexOf("II*\0"u8);
        exif.AsSpan(tiff + 8, 24).Fill(0xFF);
        File.WriteAllBytes(Path.Combine(dir, "bad-exif.jpg"), exif);
        MediaFactory.WriteMp4(Path.Combine(dir, "good.mp4"), 3);

        var status = await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        var files = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{status["session_id"]!.GetValue<string>()}/files"))["items"]!.AsArray();
        string StateOf(string name) => files.Single(f => f!["path"]!.GetValue<string>().EndsWith(name, StringComparison.Ordinal))!["state"]!.GetValue<string>();

        Assert.That(StateOf("garbage.mp4"), Is.EqualTo("failed"));
        Assert.That(StateOf("good.mp4"), Is.EqualTo("committed"));
        Assert.That(StateOf("bad-exif.jpg"), Does.StartWith("committed"), "broken EXIF loses metadata, not the file");
        Assert.That(IngestClient.Int(status, "stats.committed_files") + IngestClient.Int(status, "stats.errors"), Is.EqualTo(4));
    }

    [Test]
    public async Task Files_deleted_truncated_or_replaced_during_the_run_get_clear_results()
    {
        IngestApiTests.WritePngs(Folder, 12);
        var outside = Path.Combine(App.WorkDirectory, "outside-" + Folder + ".png");
        MediaFactory.WritePng(outside, 8, 8, seed: 99);
        HoldAfter(1);
        var id = await Api.StartAsync(new { directory = Folder });
        await Api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 1);

        // Every other file waits at the gate: change three of them under the job's feet, then let the run go on.
        File.Delete(Path.Combine(FolderPath, "img-9.png"));
        var truncated = Path.Combine(FolderPath, "img-10.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(truncated)[..20]);
        var replaced = Path.Combine(FolderPath, "img-11.png");
        File.Delete(replaced);
        File.CreateSymbolicLink(replaced, outside);
        App.Gate.Open();

        var status = await Api.WaitForEndAsync(id);
        var files = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files"))["items"]!.AsArray();
        string Result(string name) => files.Single(f => f!["path"]!.GetValue<string>().EndsWith(name, StringComparison.Ordinal)) is var f
            ? $"{f!["state"]!.GetValue<string>()}: {f["reason"]?.GetValue<string>()}" : "";

        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        Assert.That(Result("img-9.png"), Does.StartWith("failed").And.Contain("no longer exists"));
        Assert.That(Result("img-10.png"), Does.StartWith("failed").Or.StartWith("committed_with_warnings"));
        Assert.That(Result("img-11.png"), Does.StartWith("failed").And.Contain("outside the media root"));
        Assert.That(IngestClient.Int(status, "stats.committed_files") + IngestClient.Int(status, "stats.errors"), Is.EqualTo(12), "every file is accounted for");
    }

    [Test]
    public async Task A_locked_catalog_fails_the_run_once_with_a_clear_message()
    {
        var work = Path.Combine(Path.GetTempPath(), "ingestlite-locked-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // A child process has no test gate: the throttle makes the run last a minute, far longer than the
            // test's steps, and the lock ends it.
            for (var i = 0; i < 300; i++)
            {
                MediaFactory.WritePng(Path.Combine(work, "media", "run", $"img-{i:D3}.png"), 8, 8, seed: (byte)i);
            }

            using var app = await ChildApp.StartAsync(work, new Dictionary<string, string> { ["Ingest:MaxFilesPerSecond"] = "5" });
            using var http = app.CreateClient();
            var api = new IngestClient(http);
            var id = await api.StartAsync(new { directory = "run" });
            await api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 2);

            await using var blocker = new SqliteConnection($"Data Source={Path.Combine(work, "data", "catalog.db")}");
            await blocker.OpenAsync();
            await using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
            }

            var status = await api.WaitForEndAsync(id, TimeSpan.FromSeconds(40));
            Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("error"));
            Assert.That(status["message"]!.GetValue<string>(), Does.Contain("catalog unavailable"));
            Assert.That(IngestClient.Int(status, "stats.errors"), Is.LessThanOrEqualTo(2), "no torrent of per-file errors");
            Assert.That(status["error"]!.GetValue<string>(), Is.EqualTo(status["message"]!.GetValue<string>()), "upstream's clients read error");

            // Its Hangfire job ends Failed, with the session's reason (the dashboard's job page says so).
            var job = status["job_id"]!.GetValue<string>();
            var page = "";
            for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50))
            {
                page = await http.GetStringAsync($"hangfire/jobs/details/{job}");
                if (page.Contains("IngestFailedException", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.That(page, Does.Contain("IngestFailedException").And.Contain("catalog unavailable"), "the job is Failed with the session's message");
        }
        finally
        {
            TestSuite.TryDelete(work);
        }
    }
}
