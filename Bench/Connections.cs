using System.Diagnostics;
using System.Globalization;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Bench;

/// <summary>Server memory per open idle stream, time to accept them, and that all is released afterwards.</summary>
public static class Connections
{
    private const int WarmUpStreams = 200;

    public static async Task<IReadOnlyList<Figure>> IdleStreamsAsync(AppHost app, IProgressRegistry registry, int count)
    {
        var sessionId = $"bench-idle-{count}-{Guid.NewGuid():N}";
        registry.Publish(Latency.Snapshot(sessionId, 1, SessionStatus.Processing));
        var gate = app.Services.GetRequiredService<StreamGate>();

        // A first batch, not measured: JIT, thread-pool threads and Kestrel's buffer pool are paid once per process, not per stream.
        using (var warmUp = ChildClients.Start("hold", new Uri(app.BaseAddress, $"api/ingest/stream/{sessionId}"), WarmUpStreams))
        {
            await warmUp.ReadLineAsync(TimeSpan.FromMinutes(1));
            await warmUp.SendAsync("close");
            await warmUp.ReadLineAsync(TimeSpan.FromMinutes(1));
            await WaitUntilAsync(() => gate.OpenStreams == 0, TimeSpan.FromSeconds(30));
        }

        var (heapBefore, rssBefore) = Memory();

        using var clients = ChildClients.Start("hold", new Uri(app.BaseAddress, $"api/ingest/stream/{sessionId}"), count);
        var ready = await clients.ReadLineAsync(TimeSpan.FromMinutes(4));
        var acceptMs = double.Parse(ready.Split(' ')[1], CultureInfo.InvariantCulture);
        var open = gate.OpenStreams;
        var (heapOpen, rssOpen) = Memory();

        await clients.SendAsync("close");
        await clients.ReadLineAsync(TimeSpan.FromMinutes(1));
        var released = await WaitUntilAsync(() => gate.OpenStreams == 0 && registry.SubscriberCount == 0, TimeSpan.FromSeconds(30));
        registry.Remove(sessionId);
        var (heapAfter, _) = Memory();

        var label = $"{count} idle streams";
        return
        [
            new(label, "server managed heap per stream", (heapOpen - heapBefore) / (double)count / 1024, "KB"),
            new(label, "server RSS per stream", (rssOpen - rssBefore) / (double)count / 1024, "KB"),
            new(label, $"time to accept all {open} streams", acceptMs, "ms"),
            new(label, "streams and subscribers released", released ? 1 : 0, "yes=1"),
            new(label, "managed heap left after release", (heapAfter - heapBefore) / 1024.0, "KB"),
        ];
    }

    public static (long Heap, long Rss) Memory()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), self.WorkingSet64);
    }

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
