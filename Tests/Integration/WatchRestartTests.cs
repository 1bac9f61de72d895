using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>Watches outlive the app: kept in the catalog, restarted with it, and caught up by the start-up reconcile.</summary>
[NonParallelizable]
public sealed class WatchRestartTests
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Watch:StabilityPeriod"] = "00:00:00.300",
        ["Watch:LookInterval"] = "00:00:00.050",
        ["Ingest:Watch:0:Directory"] = "startup",
        ["Ingest:Watch:0:Pattern"] = "*.png",
    };

    private string _work = null!;

    [SetUp]
    public void SetUp()
    {
        _work = Path.Combine(Path.GetTempPath(), "ingestlite-watch-restart-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(_work, "media", "startup"));
        Directory.CreateDirectory(Path.Combine(_work, "media", "api"));
    }

    [TearDown]
    public void TearDown() => TestSuite.TryDelete(_work);

    [TestCase(false, TestName = "Watches_restart_after_a_graceful_stop_and_catch_up_on_files_written_while_down")]
    [TestCase(true, TestName = "Watches_restart_after_SIGKILL_and_catch_up_on_files_written_while_down")]
    public async Task Watches_restart_with_the_app(bool kill)
    {
        string apiWatch, apiSession;
        List<string> before;
        using (var first = await ChildApp.StartAsync(_work, Settings))
        {
            using var http = first.CreateClient();
            using (var created = await http.PostAsJsonAsync("api/watch", new { directory = "api" }))
            {
                var body = IngestClient.Parse(await created.Content.ReadAsStringAsync());
                Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), body.ToJsonString());
                (apiWatch, apiSession) = (body["watch_id"]!.GetValue<string>(), body["session_id"]!.GetValue<string>());
            }

            before = await WatchIdsAsync(http);
            Assert.That(before, Has.Count.EqualTo(2), "the start-up watch (Ingest:Watch) and the API's");
            MediaFactory.WritePng(Path.Combine(_work, "media", "api", "one.png"), 16, 16, null, seed: 1);
            MediaFactory.WritePng(Path.Combine(_work, "media", "startup", "two.png"), 16, 16, null, seed: 2);
            await WaitForCountAsync(http, 2);
            if (kill)
            {
                first.Kill();
            }
            else
            {
                await first.StopGracefullyAsync(TimeSpan.FromSeconds(30));
            }
        }

        MediaFactory.WritePng(Path.Combine(_work, "media", "api", "while-down.png"), 16, 16, null, seed: 3);
        using var second = await ChildApp.StartAsync(_work, Settings);
        using var client = second.CreateClient();
        Assert.That(await WatchIdsAsync(client), Is.EqualTo(before), "the same watches, the start-up one not added twice");
        await WaitForCountAsync(client, 3);
        var api = new IngestClient(client);
        var status = await api.WaitUntilAsync(apiSession, s => IngestClient.Int(s, "stats.committed_files") == 2);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("watching"), status.ToJsonString());

        MediaFactory.WritePng(Path.Combine(_work, "media", "api", "after.png"), 16, 16, null, seed: 4);
        await WaitForCountAsync(client, 4);
        using var removed = await client.DeleteAsync($"api/watch/{apiWatch}");
        Assert.That(removed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private static async Task<List<string>> WatchIdsAsync(HttpClient http) =>
        [.. JsonNode.Parse(await http.GetStringAsync("api/watch"))!.AsArray().Select(w => w!["watch_id"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    private static async Task WaitForCountAsync(HttpClient http, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var count = IngestClient.Int(IngestClient.Parse(await http.GetStringAsync("api/media?limit=100")), "count");
            if (count == expected)
            {
                return;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the catalog holds {count} files, not {expected}");
            await Task.Delay(50);
        }
    }
}
