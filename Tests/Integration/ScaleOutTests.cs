using System.Net;
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
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT statename FROM hangfire.job WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", long.Parse(jobId, System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo("Succeeded"));
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
