using System.Net;
using System.Net.Http.Json;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>The app stopped mid-run, gracefully or by SIGKILL, then restarted on the same catalog.</summary>
[NonParallelizable]
public sealed class RestartTests
{
    // A child process has no test gate: at 10 files/s the first run lasts 20 s, far longer than the test's steps before it stops it.
    private const int Files = 200;

    private string _work = null!;

    [SetUp]
    public void SetUp()
    {
        _work = Path.Combine(Path.GetTempPath(), "ingestlite-restart-" + Guid.NewGuid().ToString("N")[..8]);
        for (var i = 0; i < Files; i++)
        {
            MediaFactory.WritePng(Path.Combine(_work, "media", "run", $"img-{i:D3}.png"), 16, 16, null, seed: (byte)i);
        }
    }

    [TearDown]
    public void TearDown() => TestSuite.TryDelete(_work);

    [TestCase(false, TestName = "Graceful_stop_mid_run_reads_interrupted_and_resume_finishes")]
    [TestCase(true, TestName = "SIGKILL_mid_run_reads_interrupted_and_resume_finishes_without_loss_or_duplicates")]
    public async Task Stop_mid_run_then_restart_and_resume(bool kill)
    {
        var throttle = new Dictionary<string, string> { ["Ingest:MaxFilesPerSecond"] = "10" };
        string id;
        using (var first = await ChildApp.StartAsync(_work, throttle))
        {
            using var http = first.CreateClient();
            var api = new IngestClient(http);
            id = await api.StartAsync(new { directory = "run" });
            await api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 5);
            if (kill)
            {
                first.Kill();
            }
            else
            {
                await first.StopGracefullyAsync(TimeSpan.FromSeconds(30));
            }
        }

        using var second = await ChildApp.StartAsync(_work);
        using var client = second.CreateClient();
        var again = new IngestClient(client);
        var status = await again.StatusAsync(id);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("interrupted"), status.ToJsonString());
        var committedBefore = IngestClient.Int(status, "stats.committed_files");
        Assert.That(committedBefore, Is.InRange(1, Files - 1), "the run was stopped part-way");
        Assert.That(IngestClient.Int(status, "processed_files"), Is.EqualTo(committedBefore), "the counts after a restart come from the catalog's per-file results");

        using (var resume = await client.PostAsync($"api/ingest/resume/{id}", null))
        {
            Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.OK), await resume.Content.ReadAsStringAsync());
        }

        var done = await again.WaitForEndAsync(id);
        Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"), done.ToJsonString());
        Assert.That(IngestClient.Int(done, "stats.committed_files"), Is.EqualTo(Files), "no file lost, none counted twice");
        Assert.That(IngestClient.Int(done, "stats.errors"), Is.Zero);
        var media = IngestClient.Parse(await client.GetStringAsync("api/media?q=run/&limit=1000"));
        Assert.That(IngestClient.Int(media, "count"), Is.EqualTo(Files), "the catalog holds each file exactly once");
    }

    [Test]
    public async Task SIGKILL_mid_run_of_a_deferred_session_resumes_from_what_was_staged_and_the_commit_writes_each_file_once()
    {
        string id;
        using (var first = await ChildApp.StartAsync(_work, new Dictionary<string, string> { ["Ingest:MaxFilesPerSecond"] = "10" }))
        {
            using var http = first.CreateClient();
            var api = new IngestClient(http);
            id = await api.StartAsync(new { directory = "run", commit_mode = "deferred" });
            await api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 5);
            first.Kill();
        }

        using var second = await ChildApp.StartAsync(_work);
        using var client = second.CreateClient();
        var again = new IngestClient(client);
        var status = await again.StatusAsync(id);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("interrupted"), status.ToJsonString());
        var stagedBefore = IngestClient.Int(status, "processed_files");
        Assert.That(stagedBefore, Is.InRange(1, Files - 1), "the run was stopped part-way; what it staged survived the kill");
        Assert.That(IngestClient.Int(IngestClient.Parse(await client.GetStringAsync("api/media?q=run/&limit=1000")), "count"), Is.Zero, "nothing in the catalog before a commit");

        using (var resume = await client.PostAsync($"api/ingest/resume/{id}", null))
        {
            Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.OK), await resume.Content.ReadAsStringAsync());
        }

        var done = await again.WaitForEndAsync(id);
        Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"), done.ToJsonString());
        Assert.That(IngestClient.Int(done, "processed_files"), Is.EqualTo(Files));
        Assert.That(IngestClient.Int(IngestClient.Parse(await client.GetStringAsync("api/media?q=run/&limit=1000")), "count"), Is.Zero);

        using (var commit = await client.PostAsJsonAsync("api/ingest/commit", new { session_id = id }))
        {
            Assert.That(commit.StatusCode, Is.EqualTo(HttpStatusCode.OK), await commit.Content.ReadAsStringAsync());
        }

        var committed = await again.WaitForEndAsync(id);
        Assert.That(committed["status"]!.GetValue<string>(), Is.EqualTo("committed"), committed.ToJsonString());
        Assert.That(IngestClient.Int(committed, "stats.committed_files"), Is.EqualTo(Files), "no file lost, none counted twice");
        var media = IngestClient.Parse(await client.GetStringAsync("api/media?q=run/&limit=1000"));
        Assert.That(IngestClient.Int(media, "count"), Is.EqualTo(Files), "the catalog holds each file exactly once");
    }
}
