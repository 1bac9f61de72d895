using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>Streams are closed after Stream:MaxLifetime; a client that reconnects with Last-Event-ID loses nothing.</summary>
public sealed class StreamLifetimeTests
{
    [Test]
    public async Task A_multiplexed_stream_of_an_app_with_no_session_yet_starts_with_a_heartbeat_not_at_the_first_interval()
    {
        // A fresh install: no session at all, and the default heartbeat interval (15 s).
        using var temp = new TempDirectory();
        using var app = await ChildApp.StartAsync(temp.FullPath);
        using var http = app.CreateClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var response = await SseReader.OpenAsync(http, "api/ingest/stream", cancellationToken: timeout.Token);
        await using var events = SseReader.ReadAsync(response, timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.That(await events.MoveNextAsync(), Is.True);
        Assert.That(events.Current.Type, Is.EqualTo(IngestLite.Progress.ProgressWire.HeartbeatEvent), "the page's badge turns LIVE now, not in 15 s");
    }

    [Test]
    public async Task A_stream_closed_for_age_resumes_with_Last_Event_ID_and_reaches_done()
    {
        var work = Path.Combine(Path.GetTempPath(), "ingestlite-lifetime-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // At most 10 files/s: the run lasts at least 10 s, ten times the streams' lifetime.
            for (var i = 0; i < 100; i++)
            {
                MediaFactory.WritePng(Path.Combine(work, "media", "run", $"img-{i:D3}.png"), 16, 16, null, seed: (byte)i);
            }

            using var app = await ChildApp.StartAsync(work, new Dictionary<string, string>
            {
                ["Ingest:MaxFilesPerSecond"] = "10",
                ["Stream:MaxLifetime"] = "00:00:01",
            });
            using var http = app.CreateClient();
            var id = await new IngestClient(http).StartAsync(new { directory = "run" });

            var connections = 0;
            string? lastId = null;
            var all = new List<ReceivedEvent>();
            while (all.Count == 0 || !all[^1].IsFinal)
            {
                Assert.That(++connections, Is.LessThan(60), "the stream never reached done");
                var events = await SseReader.ReadAllAsync(http, $"api/ingest/stream/{id}", lastId, TimeSpan.FromSeconds(10));
                all.AddRange(events.Where(e => e.Id is not null));
                lastId = all.Count > 0 ? all[^1].Id : null;
            }

            var seqs = all.Select(e => long.Parse(e.Id!)).ToList();
            Assert.That(connections, Is.GreaterThanOrEqualTo(2), "a 10 s run outlives a 1 s stream");
            Assert.That(seqs, Is.Ordered.Ascending.And.Unique, "no state is repeated across reconnects");
            Assert.That(IngestClient.Parse(all[^1].Data)["processed_files"]!.GetValue<int>(), Is.EqualTo(100));
        }
        finally
        {
            TestSuite.TryDelete(work);
        }
    }
}
