using System.Text.Json.Nodes;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Npgsql;

namespace IngestLite.Tests.Integration;

/// <summary>
/// A web node that loses the shared database keeps its streams open and says so (heartbeats, health), then catches
/// up from the durable snapshots once the database is back. The test holds the outage itself: the database refuses
/// connections (ALLOW_CONNECTIONS false, its sessions terminated) until the test lets them in again.
/// </summary>
[NonParallelizable]
public sealed class BackplaneOutageTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Test]
    public async Task A_web_node_cut_off_from_the_database_keeps_its_stream_open_says_so_and_catches_up_once_back()
    {
        // The web node is a process of its own: an in-process host on PostgreSQL would leave Hangfire's static storage
        // pointing at this test's database (dropped at the end) for the suite's shared host.
        using var temp = new TempDirectory();
        await using var database = await PostgresDatabase.CreateAsync();
        using var app = await ChildApp.StartAsync(temp.FullPath, new Dictionary<string, string>
        {
            ["Storage:Provider"] = "PostgreSql",
            ["ConnectionStrings:IngestLite"] = database.ConnectionString,
            ["Node:Role"] = "Web",
            ["Stream:HeartbeatInterval"] = "00:00:00.200",
        });
        await using var worker = await BackplaneNode.StartAsync(database.ConnectionString, "worker");

        using var timeout = new CancellationTokenSource(Patience);
        using var http = app.CreateClient();
        using var response = await SseReader.OpenAsync(http, "api/ingest/stream", cancellationToken: timeout.Token);
        await using var events = SseReader.ReadAsync(response, timeout.Token).GetAsyncEnumerator(timeout.Token);
        async Task<ReceivedEvent> NextAsync(Func<ReceivedEvent, bool> wanted)
        {
            while (await events.MoveNextAsync())
            {
                if (wanted(events.Current))
                {
                    return events.Current;
                }
            }

            throw new AssertionException("the stream ended");
        }

        static long? Seq(ReceivedEvent e, string sessionId) =>
            e.Type is ProgressWire.ProgressEvent or ProgressWire.DoneEvent && JsonNode.Parse(e.Data) is { } json && (string?)json["session_id"] == sessionId
                ? (long?)json["seq"]
                : null;

        worker.Publish(Snapshot("outage", 1));
        await NextAsync(e => Seq(e, "outage") == 1);

        // The outage: nobody may connect to the database, and every connection to it is closed.
        await RunOnServerAsync($"ALTER DATABASE {database.Name} ALLOW_CONNECTIONS false");
        await RunOnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Name}'");

        var stale = await NextAsync(e => e.Type == ProgressWire.HeartbeatEvent && e.Data.Contains("stale", StringComparison.Ordinal));
        Assert.That((string?)JsonNode.Parse(stale.Data)!["stale"], Does.StartWith("this server cannot reach its database"));
        using (var health = await http.GetAsync("healthz", timeout.Token))
        {
            Assert.That(await health.Content.ReadAsStringAsync(timeout.Token), Does.Contain("cannot reach its database"));
        }

        // The worker's report meanwhile stays with it (its newest state only) and goes out once the database is back.
        worker.Publish(Snapshot("outage", 2));
        worker.Publish(Snapshot("outage", 3, SessionStatus.Completed));
        await RunOnServerAsync($"ALTER DATABASE {database.Name} ALLOW_CONNECTIONS true");

        var done = await NextAsync(e => Seq(e, "outage") == 3);
        Assert.That(done.Type, Is.EqualTo(ProgressWire.DoneEvent), "the same stream, still open, gets the final state");
        await NextAsync(e => e.Type == ProgressWire.HeartbeatEvent && e.Data == "{}");
        using (var health = await http.GetAsync("healthz", timeout.Token))
        {
            Assert.That(await health.Content.ReadAsStringAsync(timeout.Token), Does.Not.Contain("cannot reach its database"), "healthy again");
        }

        await worker.StopAsync(CancellationToken.None);
    }

    private static async Task RunOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresDatabase.Server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static ProgressSnapshot Snapshot(string sessionId, long seq, SessionStatus status = SessionStatus.Processing) => new(
        sessionId, status, Progress: 0, TotalFiles: 10, CurrentPath: null, CurrentStage: null, ProcessedFiles: (int)seq,
        StartTime: DateTimeOffset.UtcNow, EndTime: null, SessionStats.Empty, Errors: [], ErrorDetails: [], Seq: seq,
        UpdatedAt: DateTimeOffset.UtcNow, FilesPerSecond: 0, EtaSeconds: null);
}
