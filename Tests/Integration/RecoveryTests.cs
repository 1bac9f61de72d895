using System.Globalization;
using IngestLite.Jobs.Stages;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>What a browser and the API see after the app was killed mid-run and started again on the same catalog.</summary>
[NonParallelizable]
public sealed class RecoveryTests
{
    private const int Files = 300;
    private const string Prompt = "a red fox, (snow:1.2), forest, <lora:detail:0.8>";

    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = Path.Combine(Path.GetTempPath(), "ingestlite-recovery-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown() => TestSuite.TryDelete(_work);

    [Test]
    public async Task After_a_kill_the_recovered_session_continues_seq_and_rebuilds_every_counter_from_the_per_file_results()
    {
        for (var i = 0; i < Files; i++)
        {
            var path = Path.Combine(_work, "media", "run", $"img-{i:D3}.png");
            MediaFactory.WritePng(path, 16, 16, [("parameters", MediaFactory.A1111Parameters(Prompt))], seed: (byte)i);
            MediaFactory.WriteScoreSidecar(path, """{"score": 4}""");
        }

        // Slow enough that the run lasts minutes: it is surely still running when killed.
        var settings = new Dictionary<string, string> { ["Ingest:MaxFilesPerSecond"] = "3" };
        string id;
        long seenSeq;
        using (var first = await ChildApp.StartAsync(_work, settings))
        {
            using var http = first.CreateClient();
            var api = new IngestClient(http);
            id = await api.StartAsync(new { directory = "run" });
            var live = await api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= 4);
            Assert.That(live["status"]!.GetValue<string>(), Is.EqualTo("processing"));
            seenSeq = live["seq"]!.GetValue<long>();
            first.Kill();
        }

        using var second = await ChildApp.StartAsync(_work);
        using var client = second.CreateClient();
        var status = await new IngestClient(client).StatusAsync(id);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("interrupted"), status.ToJsonString());
        Assert.That(status["seq"]!.GetValue<long>(), Is.GreaterThan(seenSeq),
            "a tab that saw the live run must take the recovered snapshot: its seq is above anything sent before");

        var committed = IngestClient.Int(status, "stats.committed_files");
        Assert.That(committed, Is.InRange(4, Files - 1), status.ToJsonString());
        var keywordsPerFile = KeywordParser.Parse(Prompt).Keywords.Count;
        Assert.Multiple(() =>
        {
            Assert.That(IngestClient.Int(status, "processed_files"), Is.EqualTo(committed), "processed");
            Assert.That(IngestClient.Int(status, "stats.metadata_extracted"), Is.EqualTo(committed), "metadata_extracted, from the per-file results");
            Assert.That(IngestClient.Int(status, "stats.keywords_added"), Is.EqualTo(committed * keywordsPerFile), "keywords_added, from the per-file results");
            Assert.That(IngestClient.Int(status, "stats.scores_imported"), Is.EqualTo(committed), "scores_imported, from the per-file results");
            Assert.That(IngestClient.Int(status, "stats.errors"), Is.Zero, "errors");
            Assert.That(IngestClient.Int(status, "stats.warnings"), Is.Zero, "warnings");
        });
    }

    [Test]
    public async Task Multiplexed_stream_ids_stay_monotonic_across_a_restart()
    {
        for (var i = 0; i < 5; i++)
        {
            MediaFactory.WritePng(Path.Combine(_work, "media", "run", $"img-{i:D3}.png"), 16, 16, seed: (byte)i);
        }

        var settings = new Dictionary<string, string> { ["Stream:HeartbeatInterval"] = "00:00:00.500" };
        string id;
        long before;
        using (var first = await ChildApp.StartAsync(_work, settings))
        {
            using var http = first.CreateClient();
            var api = new IngestClient(http);
            id = await api.StartAsync(new { directory = "run" });
            await api.WaitForEndAsync(id);
            before = RegistryVersion(await http.GetStringAsync("api/ingest/metrics"));
            first.Kill();
        }

        using var second = await ChildApp.StartAsync(_work, settings);
        using var client = second.CreateClient();
        var after = RegistryVersion(await client.GetStringAsync("api/ingest/metrics"));
        Assert.That(after, Is.GreaterThan(before), "the new process's versions start above every id the old one sent");

        // A page that followed the old process resumes with its last id, and still gets the reloaded session.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await SseReader.OpenAsync(client, "api/ingest/stream", before.ToString(CultureInfo.InvariantCulture), cts.Token);
        var sessions = new List<string>();
        await foreach (var e in SseReader.ReadAsync(response, cts.Token))
        {
            if (e.Type == "heartbeat")
            {
                break;
            }

            Assert.That(long.Parse(e.Id!, CultureInfo.InvariantCulture), Is.GreaterThan(before), "ids never go back below the old process's");
            sessions.Add(IngestClient.Parse(e.Data)["session_id"]!.GetValue<string>());
        }

        Assert.That(sessions, Does.Contain(id), "the resumed stream sends the sessions reloaded after the restart");
    }

    private static long RegistryVersion(string metrics) => IngestClient.Parse(metrics)["registry_version"]!.GetValue<long>();
}
