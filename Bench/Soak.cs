using System.Net.ServerSentEvents;
using System.Text.Json;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Bench;

/// <summary>
/// Several concurrent sessions, each followed by hundreds of SSE clients that read normally, read
/// slowly, or drop and reconnect with Last-Event-ID. Every client must end with the final state.
/// </summary>
public static class Soak
{
    public static async Task<IReadOnlyList<Figure>> RunAsync(AppHost app, int sessions, int clientsPerKind, int files)
    {
        var gate = app.Services.GetRequiredService<StreamGate>();
        var registry = app.Services.GetRequiredService<IProgressRegistry>();
        var (heapBefore, _) = Connections.Memory();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 10_000, AutomaticDecompression = System.Net.DecompressionMethods.All })
        {
            BaseAddress = app.BaseAddress,
            Timeout = TimeSpan.FromMinutes(5),
        };
        var api = new Api(http);
        var folders = new List<string>();
        for (var s = 0; s < sessions; s++)
        {
            var folder = $"soak-{s}";
            for (var i = 0; i < files; i++)
            {
                MediaFactory.WritePng(Path.Combine(app.MediaRoot, folder, $"img-{i:D3}.png"), 16, 16, null, seed: (byte)i);
            }

            folders.Add(folder);
        }

        app.SetSetting("Ingest:MaxFilesPerSecond", "20");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ids = new List<string>();
        foreach (var folder in folders)
        {
            ids.Add(await api.StartAsync(new { directory = folder, skip_existing = false }));
        }

        var followers = ids.SelectMany(id => Enumerable.Range(0, clientsPerKind).SelectMany(_ => new[]
        {
            FollowAsync(http, id, TimeSpan.Zero, 0),
            FollowAsync(http, id, TimeSpan.FromMilliseconds(50), 0),
            FollowAsync(http, id, TimeSpan.Zero, 3),
        })).ToList();
        var results = await Task.WhenAll(followers);
        var elapsed = clock.Elapsed.TotalSeconds;
        app.SetSetting("Ingest:MaxFilesPerSecond", null);

        var released = await Connections.WaitUntilAsync(() => gate.OpenStreams == 0 && registry.SubscriberCount == 0, TimeSpan.FromSeconds(30));
        http.Dispose();
        var (heapAfter, _) = Connections.Memory();
        var label = $"soak, {sessions} sessions x {clientsPerKind * 3} clients";
        return
        [
            new(label, "clients that ended with the final state", results.Count(r => r.Final && r.Processed == files), $"of {results.Length}"),
            new(label, "failed requests", results.Sum(r => r.Failures), "requests"),
            new(label, "reconnects with Last-Event-ID", results.Sum(r => r.Reconnects), "reconnects"),
            new(label, "streams and subscribers back to zero", released ? 1 : 0, "yes=1"),
            new(label, "managed heap after vs before", (heapAfter - heapBefore) / 1024.0, "KB"),
            new(label, "wall time", elapsed, "s"),
        ];
    }

    private sealed record Outcome(bool Final, int Processed, int Reconnects, int Failures);

    private static async Task<Outcome> FollowAsync(HttpClient http, string id, TimeSpan perEvent, int dropEvery)
    {
        string? lastId = null;
        var reconnects = 0;
        var failures = 0;
        while (reconnects + failures < 1000)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/ingest/stream/{id}");
            if (lastId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastId);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                failures++;
                await Task.Delay(100);
                continue;
            }

            await using var body = await response.Content.ReadAsStreamAsync();
            var count = 0;
            await foreach (var item in SseParser.Create(body, static (_, data) => data.ToArray()).EnumerateAsync())
            {
                lastId = item.EventId ?? lastId;
                if (ProgressWire.IsFinalSnapshot(item.EventType, item.Data))
                {
                    using var json = JsonDocument.Parse(item.Data);
                    return new Outcome(true, json.RootElement.GetProperty("processed_files").GetInt32(), reconnects, failures);
                }

                if (perEvent > TimeSpan.Zero)
                {
                    await Task.Delay(perEvent);
                }

                if (dropEvery > 0 && ++count == dropEvery)
                {
                    break;
                }
            }

            reconnects++;
        }

        return new Outcome(false, 0, reconnects, failures);
    }
}
