using System.Diagnostics;
using System.Globalization;
using IngestLite.Progress;
using IngestLite.Tests.Support;

namespace IngestLite.Bench;

/// <summary>One busy session (10,000 changes a second) followed by many streams: events delivered and CPU spent.</summary>
public static class FanOut
{
    public static async Task<IReadOnlyList<Figure>> RunAsync(AppHost app, IProgressRegistry registry, int subscribers, TimeSpan duration)
    {
        var sessionId = $"bench-fanout-{Guid.NewGuid():N}";
        registry.Publish(Latency.Snapshot(sessionId, 0, SessionStatus.Processing));
        using var clients = ChildClients.Start("count", new Uri(app.BaseAddress, $"api/ingest/stream/{sessionId}"), subscribers);
        await clients.ReadLineAsync(TimeSpan.FromMinutes(3));

        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long seq = 0;
        while (clock.Elapsed < duration)
        {
            // Catch up to 10,000 changes a second of elapsed time, then yield briefly.
            var due = (long)(clock.Elapsed.TotalSeconds * 10_000);
            while (seq < due)
            {
                registry.Publish(Latency.Snapshot(sessionId, ++seq, SessionStatus.Processing));
            }

            await Task.Delay(1);
        }

        registry.Publish(Latency.Snapshot(sessionId, ++seq, SessionStatus.Completed));
        var line = await clients.ReadLineAsync(TimeSpan.FromMinutes(2));
        var elapsed = clock.Elapsed.TotalSeconds;
        self.Refresh();
        var cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds / elapsed / Environment.ProcessorCount * 100;
        registry.Remove(sessionId);

        var parts = line.Split(' ');
        var total = long.Parse(parts[1], CultureInfo.InvariantCulture);
        var label = $"fan-out, {subscribers} streams";
        return
        [
            new(label, "changes published", seq / elapsed, "per s"),
            new(label, "events delivered, all streams", total / elapsed, "per s"),
            new(label, "events per stream, least", long.Parse(parts[2], CultureInfo.InvariantCulture) / elapsed, "per s"),
            new(label, "events per stream, most", long.Parse(parts[3], CultureInfo.InvariantCulture) / elapsed, "per s"),
            new(label, $"server CPU (of {Environment.ProcessorCount} cores)", cpu, "%"),
        ];
    }
}
