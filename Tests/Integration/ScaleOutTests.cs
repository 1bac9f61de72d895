using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hangfire;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Npgsql;

namespace IngestLite.Tests.Integration;

/// <summary>
/// Storage:Provider and Node:Role: Hangfire on PostgreSQL, web and worker nodes on one database, and the
/// settings that cannot work together refused at start-up. Each app is a child process on its own database.
/// </summary>
[NonParallelizable]
public sealed class ScaleOutTests
{
    private string _work = null!;
    private PostgresDatabase _database = null!;

    [SetUp]
    public async Task SetUp()
    {
        _work = Path.Combine(Path.GetTempPath(), "ingestlite-scale-" + Guid.NewGuid().ToString("N")[..8]);
        for (var i = 0; i < 12; i++)
        {
            MediaFactory.WritePng(Path.Combine(_work, "media", "run", $"img-{i:D2}.png"), 16, 16, null, seed: (byte)i);
        }

        _database = await PostgresDatabase.CreateAsync();
    }

    [TearDown]
    public async Task TearDown()
    {
        await _database.DisposeAsync();
        TestSuite.TryDelete(_work);
    }

    private Dictionary<string, string> PostgreSql(string role = "All") => new()
    {
        ["Storage:Provider"] = "PostgreSql",
        ["ConnectionStrings:IngestLite"] = _database.ConnectionString,
        ["Node:Role"] = role,
    };

    [Test]
    public async Task An_ingest_runs_as_a_hangfire_job_kept_in_postgresql()
    {
        using var app = await ChildApp.StartAsync(_work, PostgreSql());
        using var http = app.CreateClient();
        var api = new IngestClient(http);
        var id = await api.StartAsync(new { directory = "run" });
        var done = await api.WaitForEndAsync(id);
        Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"), done.ToJsonString());
        Assert.That(IngestClient.Int(done, "stats.committed_files"), Is.EqualTo(12));

        // The job is Hangfire's row in the database, not in the process: its state there is Succeeded.
        var jobId = done["job_id"]!.GetValue<string>();

        // The session completes as the job's last step; Hangfire moves the job on once the method has returned.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? state;
        while ((state = await JobStateAsync(jobId)) is "Processing")
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.That(state, Is.EqualTo("Succeeded"));
    }

    [Test]
    public async Task A_worker_node_answers_health_only_and_a_web_node_runs_no_job_server()
    {
        using var worker = await ChildApp.StartAsync(_work, PostgreSql("Worker"));
        using var web = await ChildApp.StartAsync(_work, PostgreSql("Web"));
        using var workerHttp = worker.CreateClient();
        using var webHttp = web.CreateClient();

        using (var api = await workerHttp.GetAsync("api/ingest/sessions"))
        {
            Assert.That(api.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "a worker serves no API");
        }

        using (var page = await workerHttp.GetAsync("/"))
        {
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "a worker serves no pages");
        }

        using (var api = await webHttp.GetAsync("api/ingest/sessions"))
        {
            Assert.That(api.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a web node serves the API");
        }

        // Every Hangfire server announces itself in the shared storage: the worker's is the only one.
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM hangfire.server", connection);
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo(1L), "one job server: the worker's");
    }

    /// <summary>A web node and a worker node of one deployment: same database, same media root.</summary>
    private async Task<(ChildApp Web, ChildApp Worker)> StartPairAsync(Dictionary<string, string>? worker = null, Dictionary<string, string>? both = null)
    {
        var workerSettings = PostgreSql("Worker");
        var webSettings = PostgreSql("Web");
        foreach (var (key, value) in both ?? [])
        {
            workerSettings[key] = value;
            webSettings[key] = value;
        }

        foreach (var (key, value) in worker ?? [])
        {
            workerSettings[key] = value;
        }

        var workerApp = await ChildApp.StartAsync(_work, workerSettings);
        try
        {
            return (await ChildApp.StartAsync(_work, webSettings), workerApp);
        }
        catch
        {
            workerApp.Dispose();
            throw;
        }
    }

    private void WriteFiles(string folder, int count)
    {
        for (var i = 0; i < count; i++)
        {
            MediaFactory.WritePng(Path.Combine(_work, "media", folder, $"img-{i:D3}.png"), 16, 16, null, seed: (byte)i);
        }
    }

    [Test]
    public async Task A_job_started_through_the_web_node_runs_on_the_worker_and_its_progress_streams_through_the_web_node()
    {
        var (web, worker) = await StartPairAsync(worker: new() { ["Ingest:MaxFilesPerSecond"] = "20" });
        using var _ = web;
        using var __ = worker;
        using var http = web.CreateClient();
        var id = await new IngestClient(http).StartAsync(new { directory = "run" });

        // The web node runs no job server (tested above): whatever moves, the worker moved, and the web node streamed it.
        var events = await SseReader.ReadAllAsync(http, $"api/ingest/stream/{id}", timeout: TimeSpan.FromSeconds(60));
        var snapshots = events.Where(e => e.IsSessionSnapshot).Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.That(snapshots[^1]["status"]!.GetValue<string>(), Is.EqualTo("completed"), events[^1].Data);
        Assert.That(IngestClient.Int(snapshots[^1], "stats.committed_files"), Is.EqualTo(12));
        var counts = snapshots.Select(s => IngestClient.Int(s, "processed_files")).ToList();
        Assert.That(counts.Distinct().Count(), Is.GreaterThan(5), "the counts arrived live, one after another, not only the end");
        Assert.That(counts, Is.Ordered, "and never went back");
        Assert.That(snapshots.Select(s => (long)s["seq"]!), Is.Ordered.And.Unique);
    }

    [Test]
    public async Task Cancel_through_the_web_node_stops_the_run_on_the_worker()
    {
        WriteFiles("slow", 60);
        var (web, worker) = await StartPairAsync(worker: new() { ["Ingest:MaxFilesPerSecond"] = "4" });
        using var _ = web;
        using var __ = worker;
        using var http = web.CreateClient();
        var api = new IngestClient(http);

        // 4 files/s and 60 files: the run lasts 15 s unless stopped; the test cancels it as soon as it is under way.
        var id = await api.StartAsync(new { directory = "slow" });
        await api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 2);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var cancel = await http.PostAsync($"api/ingest/cancel/{id}", null))
        {
            Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var ended = await api.WaitForEndAsync(id, TimeSpan.FromSeconds(30));
        clock.Stop();
        TestContext.Out.WriteLine($"cancel on the web node → cancelled on the web node: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.That(ended["status"]!.GetValue<string>(), Is.EqualTo("cancelled"), ended.ToJsonString());
        Assert.That(IngestClient.Int(ended, "processed_files"), Is.LessThan(60));

        // Speed goals are the benchmark's: here, far below the 15 s the run had left.
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public async Task Batches_left_on_the_queue_of_a_node_whose_lease_lapsed_are_deleted_and_a_live_nodes_are_not()
    {
        using var worker = await ChildApp.StartAsync(_work, PostgreSql("Worker"));

        // Two other nodes' own queues, each with a batch no server here takes: one node's lease lapsed an hour ago,
        // the other's runs for an hour yet.
        var options = new Hangfire.PostgreSql.PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = false };
        var storage = new Hangfire.PostgreSql.PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(_database.ConnectionString, options), options);
        var client = new BackgroundJobClient(storage);
        var dead = client.Create(() => Console.WriteLine("a batch of a dead node"), new Hangfire.States.EnqueuedState(Jobs.NodeOptions.QueueOf("Ghost.1")));
        var alive = client.Create(() => Console.WriteLine("a batch of a live node"), new Hangfire.States.EnqueuedState(Jobs.NodeOptions.QueueOf("alive")));
        await using (var connection = new NpgsqlConnection(_database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var leases = new NpgsqlCommand(
                "INSERT INTO ingestlite_nodes(node, heartbeat_at) VALUES ('Ghost.1', now() - interval '1 hour'), ('alive', now() + interval '1 hour')", connection);
            await leases.ExecuteNonQueryAsync();
        }

        // The worker looks every 5 s (WatchService.LookForWatches).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await JobStateAsync(dead) != "Deleted")
        {
            await Task.Delay(100, timeout.Token);
        }

        Assert.That(await JobStateAsync(alive), Is.EqualTo("Enqueued"), "a live node's queue is its own");
    }

    /// <summary>A job's state as Hangfire keeps it in the database.</summary>
    private async Task<string?> JobStateAsync(string jobId)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT statename FROM hangfire.job WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", long.Parse(jobId, System.Globalization.CultureInfo.InvariantCulture));
        return (string?)await command.ExecuteScalarAsync();
    }

    [Test]
    public async Task A_worker_killed_mid_run_leaves_its_session_interrupted_once_its_lease_lapses_and_a_new_worker_resumes_it_without_loss_or_duplicates()
    {
        const int Files = 60;
        WriteFiles("long", Files);
        var lease = new Dictionary<string, string> { ["Node:LeaseTimeout"] = "00:00:03" };
        // 2 files/s: the run lasts 30 s, four times what the steps before the kill take.
        var (web, worker) = await StartPairAsync(worker: new() { ["Ingest:MaxFilesPerSecond"] = "2" }, both: lease);
        using var _ = web;
        using var __ = worker;
        using var http = web.CreateClient();
        var api = new IngestClient(http);
        var id = await api.StartAsync(new { directory = "long" });
        await api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 2);

        // A web node restarting meanwhile interrupts nothing: the worker's lease holds.
        using (var other = await ChildApp.StartAsync(_work, PostgreSql("Web").Concat(lease).ToDictionary()))
        {
            Assert.That((await api.StatusAsync(id))["status"]!.GetValue<string>(), Is.EqualTo("processing"));
        }

        worker.Kill();
        var interrupted = await api.WaitUntilAsync(id, s => s["status"]!.GetValue<string>() != "processing", TimeSpan.FromSeconds(60));
        Assert.That(interrupted["status"]!.GetValue<string>(), Is.EqualTo("interrupted"), interrupted.ToJsonString());
        var before = IngestClient.Int(interrupted, "stats.committed_files");
        Assert.That(before, Is.InRange(1, Files - 1));

        using var second = await ChildApp.StartAsync(_work, PostgreSql("Worker").Concat(lease).ToDictionary());
        using (var resume = await http.PostAsync($"api/ingest/resume/{id}", null))
        {
            Assert.That(resume.StatusCode, Is.EqualTo(HttpStatusCode.OK), await resume.Content.ReadAsStringAsync());
        }

        var done = await api.WaitForEndAsync(id, TimeSpan.FromSeconds(60));
        Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"), done.ToJsonString());
        Assert.That(IngestClient.Int(done, "stats.committed_files"), Is.EqualTo(Files), "no file lost, none counted twice");
        Assert.That(IngestClient.Int(done, "stats.errors"), Is.Zero);
        var media = IngestClient.Parse(await http.GetStringAsync("api/media?q=long/&limit=1000"));
        Assert.That(IngestClient.Int(media, "count"), Is.EqualTo(Files), "the catalog holds each file exactly once");
    }

    [Test]
    public async Task A_watch_added_through_the_web_node_runs_on_the_worker_and_is_removed_through_the_web_node()
    {
        Directory.CreateDirectory(Path.Combine(_work, "media", "inbox"));
        var quick = new Dictionary<string, string> { ["Watch:StabilityPeriod"] = "00:00:00.300", ["Watch:LookInterval"] = "00:00:00.050" };
        var (web, worker) = await StartPairAsync(both: quick);
        using var _ = web;
        using var __ = worker;
        using var http = web.CreateClient();
        using var added = await http.PostAsJsonAsync("api/watch", new { directory = "inbox", pattern = "*.png" });
        Assert.That(added.StatusCode, Is.EqualTo(HttpStatusCode.Created), await added.Content.ReadAsStringAsync());
        var watch = JsonNode.Parse(await added.Content.ReadAsStringAsync())!;
        var sessionId = watch["session_id"]!.GetValue<string>();

        // The web node runs no watch: the worker takes it (told over the backplane), and its batches run there.
        MediaFactory.WritePng(Path.Combine(_work, "media", "inbox", "new.png"), 16, 16, null, seed: 7);
        var api = new IngestClient(http);
        var counted = await api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.committed_files") == 1, TimeSpan.FromSeconds(30));
        Assert.That(counted["status"]!.GetValue<string>(), Is.EqualTo("watching"));
        var listed = JsonNode.Parse(await http.GetStringAsync("api/watch"))!.AsArray();
        Assert.That(listed.Select(w => (string?)w!["watch_id"]), Is.EqualTo(new[] { (string?)watch["watch_id"] }), "every node lists every watch");

        // Removed through the web node: the worker ends it.
        using (var removed = await http.DeleteAsync($"api/watch/{watch["watch_id"]}"))
        {
            Assert.That(removed.IsSuccessStatusCode, Is.True, await removed.Content.ReadAsStringAsync());
        }

        var ended = await api.WaitForEndAsync(sessionId, TimeSpan.FromSeconds(30));
        Assert.That(ended["status"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        Assert.That(JsonNode.Parse(await http.GetStringAsync("api/watch"))!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task A_client_moved_between_two_web_nodes_with_Last_Event_ID_misses_nothing_and_gets_nothing_twice()
    {
        await using var worker = await BackplaneNode.StartAsync(_database.ConnectionString, "worker");
        worker.Publish(Snapshot("moved-a", 1));
        worker.Publish(Snapshot("moved-b", 1));
        await worker.FlushAsync(CancellationToken.None);
        using var first = await ChildApp.StartAsync(_work, PostgreSql("Web"));
        using var second = await ChildApp.StartAsync(_work, PostgreSql("Web"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // On the first node: both sessions, then the client goes away.
        string lastId;
        using (var http = first.CreateClient())
        using (var response = await SseReader.OpenAsync(http, "api/ingest/stream", cancellationToken: timeout.Token))
        {
            var seen = new HashSet<string>();
            lastId = "";
            await foreach (var e in SseReader.ReadAsync(response, timeout.Token))
            {
                if (e.Type == ProgressWire.ProgressEvent && SessionOf(e) is { } id)
                {
                    seen.Add(id);
                    lastId = e.Id!;
                    if (seen.Count == 2)
                    {
                        break;
                    }
                }
            }
        }

        // Meanwhile one session moves on. The second node, asked to resume after the first's last id, sends that change only.
        worker.Publish(Snapshot("moved-a", 2));
        using (var http = second.CreateClient())
        using (var response = await SseReader.OpenAsync(http, "api/ingest/stream", lastId, timeout.Token))
        {
            await foreach (var e in SseReader.ReadAsync(response, timeout.Token))
            {
                if (e.Type is ProgressWire.ProgressEvent or ProgressWire.DoneEvent)
                {
                    Assert.That(SessionOf(e), Is.EqualTo("moved-a"), $"after id {lastId}, only what changed since (got {e.Data})");
                    Assert.That((long)JsonNode.Parse(e.Data)!["seq"]!, Is.EqualTo(2));
                    Assert.That(long.Parse(e.Id!, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(long.Parse(lastId, System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                }
            }
        }

        // A session's own stream resumes by seq on any node.
        worker.Publish(Snapshot("moved-a", 3, SessionStatus.Completed));
        using (var http = second.CreateClient())
        {
            var events = await SseReader.ReadAllAsync(http, "api/ingest/stream/moved-a", lastEventId: "2", timeout: TimeSpan.FromSeconds(30));
            Assert.That(events.Where(e => e.IsSessionSnapshot).Select(e => e.Id), Is.EqualTo(new[] { "3" }));
        }
    }

    private static string? SessionOf(ReceivedEvent e) => (string?)JsonNode.Parse(e.Data)?["session_id"];

    private static ProgressSnapshot Snapshot(string sessionId, long seq, SessionStatus status = SessionStatus.Processing) => new(
        sessionId, status, Progress: 0, TotalFiles: 10, CurrentPath: null, CurrentStage: null, ProcessedFiles: (int)seq,
        StartTime: DateTimeOffset.UtcNow, EndTime: status.IsTerminal() ? DateTimeOffset.UtcNow : null, SessionStats.Empty, Errors: [], ErrorDetails: [],
        Seq: seq, UpdatedAt: DateTimeOffset.UtcNow, FilesPerSecond: 0, EtaSeconds: null);

    [TestCase("Web", null, "Node:Role is Web, which needs storage the nodes share: set Storage:Provider to PostgreSql")]
    [TestCase("Worker", null, "Node:Role is Worker, which needs storage the nodes share")]
    [TestCase("All", "PostgreSql", "Storage:Provider is PostgreSql, but ConnectionStrings:IngestLite is not set")]
    public void Settings_that_cannot_work_together_stop_the_app_at_start_up_saying_why(string role, string? provider, string message)
    {
        var settings = new Dictionary<string, string> { ["Node:Role"] = role };
        if (provider is not null)
        {
            settings["Storage:Provider"] = provider;
        }

        var failure = Assert.ThrowsAsync<InvalidOperationException>(() => ChildApp.StartAsync(_work, settings));
        Assert.That(failure!.Message, Does.Contain(message));
    }
}
