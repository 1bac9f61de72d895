using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Bench;

/// <summary>
/// Report-to-client latency: the bench publishes snapshots into the registry (the job's report call)
/// and clients over HTTP note when they hold each seq. One process, one clock.
/// </summary>
public static class Latency
{
    /// <summary>Streams followed from a child process (its own runtime and thread pool), decompressing and parsing as browsers do.</summary>
    public static async Task<Row> SseAsync(AppHost app, IProgressRegistry registry, int clients, int updates, int warmUp, TimeSpan gap, string? samplesDirectory)
    {
        var sessionId = $"bench-sse-{clients}-{Guid.NewGuid():N}";
        registry.Publish(Snapshot(sessionId, 0, SessionStatus.Processing));
        var output = Path.GetTempFileName();
        long[] published;
        using (var child = ChildClients.Start("latency", new Uri(app.BaseAddress, $"api/ingest/stream/{sessionId}"), clients, output))
        {
            await child.ReadLineAsync(TimeSpan.FromMinutes(3));
            var (collections, paused, allocated) = (GC.CollectionCount(0), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes());
            published = await PublishSeriesAsync(registry, sessionId, warmUp + updates, gap);

            // What the server spent (all its threads) on this phase, and its collections: a pause lands in a burst.
            Console.Error.WriteLine($"SSE, {clients} streams: server allocated {(GC.GetTotalAllocatedBytes() - allocated) / (warmUp + updates + 1.0) / clients:F0} B per event and stream; "
                + $"{GC.CollectionCount(0) - collections} GCs, paused {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F1} ms");
            await child.ReadLineAsync(TimeSpan.FromMinutes(3));
        }

        registry.Remove(sessionId);
        var samples = new List<double>();
        var missed = 0;
        // Every sample as "seq,client,ms", to see which bursts make the tail.
        using var raw = samplesDirectory is not null ? new StreamWriter(Path.Combine(samplesDirectory, $"sse-{clients}.csv")) : null;
        using (var file = new BinaryReader(File.OpenRead(output)))
        {
            for (var c = 0; c < clients; c++)
            {
                var seen = new Dictionary<long, long>();
                var n = file.ReadInt32();
                for (var i = 0; i < n; i += 2)
                {
                    seen[file.ReadInt64()] = file.ReadInt64();
                }

                for (var seq = warmUp + 1; seq <= warmUp + updates + 1; seq++)
                {
                    if (seen.TryGetValue(seq, out var at))
                    {
                        samples.Add(Stopwatch.GetElapsedTime(published[seq], at).TotalMilliseconds);
                        raw?.WriteLine($"{seq},{c},{samples[^1]:F3}");
                    }
                    else
                    {
                        missed++;
                    }
                }
            }
        }

        File.Delete(output);
        return Row.From($"SSE, {clients} stream{(clients == 1 ? "" : "s")}", samples,
            $"{updates} updates {gap.TotalMilliseconds:F0} ms apart after {warmUp} unmeasured; gzip; clients in a child process; {missed} coalesced");
    }

    public static async Task<Row> PollingAsync(AppHost app, IProgressRegistry registry, int intervalMs, int updates, TimeSpan gap)
    {
        var sessionId = $"bench-poll-{intervalMs}-{Guid.NewGuid():N}";
        var seen = new long[updates + 2];
        registry.Publish(Snapshot(sessionId, 0, SessionStatus.Processing));
        using var http = app.CreateRealClient();
        using var stop = new CancellationTokenSource();
        var poller = Task.Run(async () =>
        {
            var last = 0L;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(intervalMs));
            do
            {
                var json = await http.GetByteArrayAsync($"api/ingest/status/{sessionId}");
                var now = Stopwatch.GetTimestamp();
                using var doc = JsonDocument.Parse(json);
                var seq = doc.RootElement.GetProperty("seq").GetInt64();
                for (var s = last + 1; s <= seq && s < seen.Length; s++)
                {
                    seen[s] = now;
                }

                last = Math.Max(last, seq);
                if (doc.RootElement.GetProperty("status").GetString() == "completed")
                {
                    return;
                }
            }
            while (await timer.WaitForNextTickAsync(stop.Token));
        });

        // Start publishing at a random phase of the poll cycle, as a real job would.
        await Task.Delay(Random.Shared.Next(intervalMs));
        var published = await PublishSeriesAsync(registry, sessionId, updates, gap);
        await poller.WaitAsync(TimeSpan.FromMinutes(2));
        registry.Remove(sessionId);
        var samples = Enumerable.Range(1, updates + 1).Where(s => seen[s] != 0)
            .Select(s => Stopwatch.GetElapsedTime(published[s], seen[s]).TotalMilliseconds).ToList();
        return Row.From($"polling every {intervalMs} ms", samples, $"{updates} updates {gap.TotalMilliseconds:F0} ms apart; time until a poll shows the state");
    }

    /// <summary>Publishes seqs 1..updates <paramref name="gap"/> apart, then a final one; returns when each was published.</summary>
    internal static async Task<long[]> PublishSeriesAsync(IProgressRegistry registry, string sessionId, int updates, TimeSpan gap)
    {
        var published = new long[updates + 2];
        for (var seq = 1; seq <= updates + 1; seq++)
        {
            published[seq] = Stopwatch.GetTimestamp();
            registry.Publish(Snapshot(sessionId, seq, seq <= updates ? SessionStatus.Processing : SessionStatus.Completed));
            if (seq <= updates)
            {
                await Task.Delay(gap);
            }
        }

        return published;
    }

    /// <summary>A snapshot shaped like a real mid-run one (same fields, similar size).</summary>
    public static ProgressSnapshot Snapshot(string sessionId, long seq, SessionStatus status)
    {
        var now = DateTimeOffset.UtcNow;
        var processed = (int)Math.Min(seq, 5000);
        return new ProgressSnapshot(sessionId, status, processed * 100 / 5000, 5000, $"photos/2024/summer/img-{seq:D5}.png", "metadata",
            processed, now.AddMinutes(-1), status.IsTerminal() ? now : null,
            new SessionStats(5000, 5100, 100, processed, processed, processed * 7, processed / 2, processed, 0),
            [], [], seq, now, 950.5, 4.2);
    }
}
