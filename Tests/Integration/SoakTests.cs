using System.Net;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>
/// A bounded soak: concurrent sessions, each followed by many SSE clients that read normally, read
/// slowly, or drop and reconnect with Last-Event-ID. The full-size version runs in the benchmark.
/// </summary>
public sealed class SoakTests
{
    private static AppHost App => TestSuite.App;

    [Test]
    public async Task Every_client_ends_with_the_final_state_and_everything_is_released()
    {
        const int Sessions = 2, Files = 30, ClientsPerKind = 12;
        using var http = App.CreateRealClient(TimeSpan.FromMinutes(2));
        var api = new IngestClient(http);
        await WaitForQuietAsync(http);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var folders = Enumerable.Range(0, Sessions).Select(i => $"soak-{i}-{Guid.NewGuid():N}"[..16]).ToList();
        foreach (var folder in folders)
        {
            IngestApiTests.WritePngs(folder, Files);
        }

        App.SetSetting("Ingest:MaxFilesPerSecond", "40");
        try
        {
            var ids = new List<string>();
            foreach (var folder in folders)
            {
                ids.Add(await api.StartAsync(new { directory = folder }));
            }

            var clients = ids.SelectMany(id => Enumerable.Range(0, ClientsPerKind).SelectMany(_ => new[]
            {
                FollowAsync(http, id, slow: false, dropEvery: 0),
                FollowAsync(http, id, slow: true, dropEvery: 0),
                FollowAsync(http, id, slow: false, dropEvery: 3),
            })).ToList();
            var finals = await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(90));

            Assert.That(finals.Select(f => f.Status), Is.All.EqualTo("completed"), "every client ends with the final state");
            Assert.That(finals.Select(f => f.Processed), Is.All.EqualTo(Files));
            Assert.That(finals.Where(f => f.Reconnects > 0).Count(), Is.EqualTo(Sessions * ClientsPerKind), "the dropping clients did reconnect");
        }
        finally
        {
            App.SetSetting("Ingest:MaxFilesPerSecond", null);
        }

        await WaitForQuietAsync(http);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        TestContext.Out.WriteLine($"managed heap: {baseline / 1024} KB before, {after / 1024} KB after");
        Assert.That(after - baseline, Is.LessThan(32L * 1024 * 1024), "memory is back near its baseline");
    }

    private sealed record Final(string Status, int Processed, int Reconnects);

    /// <summary>Follows one session to its end; a slow client sleeps per event, a dropping one hangs up every few events.</summary>
    private static async Task<Final> FollowAsync(HttpClient http, string id, bool slow, int dropEvery)
    {
        string? lastId = null;
        var reconnects = 0;
        while (true)
        {
            using var response = await SseReader.OpenAsync(http, $"api/ingest/stream/{id}", lastId);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"no request fails: {await response.Content.ReadAsStringAsync()}");
            var count = 0;
            var dropped = false;
            await foreach (var e in SseReader.ReadAsync(response))
            {
                if (e.Id is null)
                {
                    continue;
                }

                Assert.That(lastId is null || long.Parse(e.Id) > long.Parse(lastId), Is.True, "never backwards, never repeated");
                lastId = e.Id;
                if (e.IsFinal)
                {
                    var snapshot = IngestClient.Parse(e.Data);
                    return new Final(snapshot["status"]!.GetValue<string>(), snapshot["processed_files"]!.GetValue<int>(), reconnects);
                }

                if (slow)
                {
                    await Task.Delay(50);
                }

                if (dropEvery > 0 && ++count == dropEvery)
                {
                    dropped = true;
                    break;
                }
            }

            Assert.That(dropped, Is.True, "the stream closed before done without the client hanging up");
            reconnects++;
        }
    }

    private static async Task WaitForQuietAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var metrics = IngestClient.Parse(await http.GetStringAsync("api/ingest/metrics"));
            if (IngestClient.Int(metrics, "open_streams") == 0 && IngestClient.Int(metrics, "subscribers") == 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("streams or subscribers were not released");
    }
}
