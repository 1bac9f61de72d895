using IngestLite.Tests.Support;
using System.Text.Json.Nodes;

namespace IngestLite.Tests.Integration;

/// <summary>Retention forgets finished sessions from memory; to a page that is not a deletion.</summary>
[NonParallelizable]
public sealed class RetentionTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = Path.Combine(Path.GetTempPath(), "ingestlite-retention-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown() => TestSuite.TryDelete(_work);

    [Test]
    public async Task A_session_dropped_by_retention_is_not_announced_as_removed()
    {
        MediaFactory.WritePng(Path.Combine(_work, "media", "a", "one.png"), 16, 16, null, seed: 1);
        MediaFactory.WritePng(Path.Combine(_work, "media", "b", "two.png"), 16, 16, null, seed: 2);
        using var app = await ChildApp.StartAsync(_work, new Dictionary<string, string>
        {
            ["Ingest:SessionRetention"] = "00:00:01",
            ["Stream:HeartbeatInterval"] = "00:00:00.500",
        });
        using var http = app.CreateClient();
        using var streamHttp = app.CreateClient();
        streamHttp.Timeout = Timeout.InfiniteTimeSpan;
        var api = new IngestClient(http);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await SseReader.OpenAsync(streamHttp, "api/ingest/stream", null, cts.Token);
        await using var events = SseReader.ReadAsync(response, cts.Token).GetAsyncEnumerator(cts.Token);
        var removed = new List<string>();

        async Task ReadUntilAsync(Func<ReceivedEvent, bool> stop)
        {
            while (await events.MoveNextAsync())
            {
                var e = events.Current;
                if (e.Type == "removed")
                {
                    removed.Add(IngestClient.Parse(e.Data)["session_id"]!.GetValue<string>());
                }

                if (stop(e))
                {
                    return;
                }
            }

            Assert.Fail("the stream ended");
        }

        bool DoneOf(ReceivedEvent e, string session) => e.Type == "done" && IngestClient.Parse(e.Data)["session_id"]!.GetValue<string>() == session;

        var first = await api.StartAsync(new { directory = "a" });
        await ReadUntilAsync(e => DoneOf(e, first));

        // Wait until retention has dropped it from memory.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (IngestClient.Int(IngestClient.Parse(await http.GetStringAsync("api/ingest/metrics")), "sessions_in_memory") > 0)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "retention did not drop the finished session");
            await Task.Delay(100);
        }

        // Another session's end, then a heartbeat (sent only when the stream is idle): the stream has
        // told everything it had to say about the first one by then.
        var second = await api.StartAsync(new { directory = "b" });
        await ReadUntilAsync(e => DoneOf(e, second));
        await ReadUntilAsync(e => e.Type == "heartbeat");

        Assert.That(removed, Does.Not.Contain(first), "forgetting a session from memory is not deleting it: the page must keep its row");
        var sessions = JsonNode.Parse(await http.GetStringAsync("api/ingest/sessions"))!.AsArray();
        Assert.That(sessions.Select(s => s!["session_id"]!.GetValue<string>()), Does.Contain(first), "the session is still listed");
    }
}
