using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using IngestLite.Tests.Support;

namespace IngestLite.Bench;

/// <summary>
/// Thousands of files written at once into a watched folder, with the product's default watch settings (2 s
/// stability, 200 ms looks): how long until all are in the catalog, how the event storm was bounded (bursts
/// collapsed into rescans, the most events ever queued), and what it cost in memory (the peak RSS above the
/// idle app, sampled every 20 ms). The same files ingested by a plain ingest give the rate to compare with.
/// </summary>
public static class WatchDrop
{
    public static async Task<IReadOnlyList<Figure>> RunAsync(AppHost app, IReadOnlyList<int> drops)
    {
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        var figures = new List<Figure>();
        foreach (var count in drops)
        {
            var folder = $"watch-drop-{count}";
            Directory.CreateDirectory(Path.Combine(app.MediaRoot, folder));
            var (watchId, sessionId) = await WatchAsync(http, folder);
            var (heapBefore, rssBefore) = Connections.Memory();
            using var sampling = new CancellationTokenSource();
            var peak = SamplePeakRssAsync(sampling.Token);

            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                MediaFactory.WritePng(Path.Combine(app.MediaRoot, folder, $"d{i / 1000:D2}", $"img-{i:D5}.png"), 32, 32, null, seed: (byte)i);
            }

            var written = clock.Elapsed;
            while (await CommittedAsync(http, sessionId) < count)
            {
                await Task.Delay(20);
            }

            var done = clock.Elapsed;
            await sampling.CancelAsync();
            var peakRss = await peak;
            var (bursts, queued) = await WatchCountsAsync(http, watchId);
            using (var removed = await http.DeleteAsync($"api/watch/{watchId}"))
            {
                removed.EnsureSuccessStatusCode();
            }

            var (heapAfter, _) = Connections.Memory();

            // The same files through an ordinary ingest: the rate a watch should come close to.
            var ingest = Stopwatch.StartNew();
            var ingestId = await new Api(http).StartAsync(new { directory = folder, recursive = true, skip_existing = false });
            while (!await FinishedAsync(http, ingestId))
            {
                await Task.Delay(20);
            }

            var ingestRate = count / ingest.Elapsed.TotalSeconds;
            var label = $"watch, {count:N0} files written at once";
            figures.AddRange(
            [
                new(label, "time to write them", written.TotalSeconds, "s"),
                new(label, "last file written to all in the catalog", (done - written).TotalSeconds, "s (2 s stability included)"),
                new(label, "files/s from the first write to the last commit", count / done.TotalSeconds, "files/s"),
                new(label, "the same files by an ingest", ingestRate, "files/s"),
                new(label, "bursts collapsed into rescans", bursts, "rescans"),
                new(label, "most events ever queued", queued, "events"),
                new(label, "peak RSS above the idle app", (peakRss - rssBefore) / 1048576.0, "MB"),
                new(label, "managed heap after vs before", (heapAfter - heapBefore) / 1048576.0, "MB"),
            ]);
        }

        return figures;
    }

    private static async Task<(string WatchId, string SessionId)> WatchAsync(HttpClient http, string folder)
    {
        using var response = await http.PostAsJsonAsync("api/watch", new { directory = folder, recursive = true });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"watch failed: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("watch_id").GetString()!, json.RootElement.GetProperty("session_id").GetString()!);
    }

    private static async Task<int> CommittedAsync(HttpClient http, string sessionId)
    {
        using var json = JsonDocument.Parse(await http.GetByteArrayAsync($"api/ingest/status/{sessionId}"));
        return json.RootElement.GetProperty("stats").GetProperty("committed_files").GetInt32();
    }

    private static async Task<bool> FinishedAsync(HttpClient http, string sessionId)
    {
        using var json = JsonDocument.Parse(await http.GetByteArrayAsync($"api/ingest/status/{sessionId}"));
        return json.RootElement.GetProperty("status").GetString() is "completed" or "error" or "cancelled";
    }

    private static async Task<(int Bursts, int Queued)> WatchCountsAsync(HttpClient http, string watchId)
    {
        using var json = JsonDocument.Parse(await http.GetByteArrayAsync("api/watch"));
        var watch = json.RootElement.EnumerateArray().Single(w => w.GetProperty("watch_id").GetString() == watchId);
        return (watch.GetProperty("bursts").GetInt32(), watch.GetProperty("peak_queued_events").GetInt32());
    }

    private static async Task<long> SamplePeakRssAsync(CancellationToken cancellationToken)
    {
        using var self = Process.GetCurrentProcess();
        var peak = 0L;
        while (!cancellationToken.IsCancellationRequested)
        {
            self.Refresh();
            peak = Math.Max(peak, self.WorkingSet64);
            await Task.Delay(20, CancellationToken.None);
        }

        return peak;
    }
}
