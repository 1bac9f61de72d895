using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Bench;

/// <summary>Ingest speed over a generated corpus of small PNG and JPEG files, all stages on, with and without viewers.</summary>
public static class Throughput
{
    /// <summary>Writes <paramref name="count"/> small images: PNGs with A1111 text, JPEGs with EXIF dates, some with sidecar scores.</summary>
    public static string BuildCorpus(AppHost app, int count)
    {
        var folder = $"corpus-{count}";
        var dir = Path.Combine(app.MediaRoot, folder);
        for (var i = 0; i < count; i++)
        {
            var sub = Path.Combine(dir, $"d{i / 500:D2}");
            if (i % 2 == 0)
            {
                var prompt = $"masterpiece, (best quality:1.2), subject {i % 97}, style {i % 13}, <lora:detail:0.{i % 9 + 1}>";
                MediaFactory.WritePng(Path.Combine(sub, $"img-{i:D5}.png"), 48, 48, [("parameters", MediaFactory.A1111Parameters(prompt))], seed: (byte)i);
            }
            else
            {
                MediaFactory.WriteJpeg(Path.Combine(sub, $"img-{i:D5}.jpg"), 48, 48, new DateTime(2020, 1, 1).AddMinutes(i), seed: (byte)i);
            }

            if (i % 10 == 0)
            {
                MediaFactory.WriteScoreSidecar(Path.Combine(sub, i % 2 == 0 ? $"img-{i:D5}.png" : $"img-{i:D5}.jpg"), $"{{\"score\": {i % 5}}}");
            }
        }

        return folder;
    }

    /// <summary>
    /// One full ingest of the corpus. Files per second come from the session's own start and end times. One run: files per second, the final state, the gzip frames compressed for the viewers (shared
    /// between them), the server process's CPU time per 1,000 files from the start to the final state, and the viewer clients' own.
    /// </summary>
    public sealed record Result(double FilesPerSecond, ProgressSnapshot Final, long Frames, double CpuMsPer1000Files, double ViewerCpuMsPer1000Files);

    /// <summary>
    /// Runs one ingest, watched by <paramref name="viewers"/> (a "viewers" client process, kept across runs) when given:
    /// half of them watch the page's multiplexed stream, open before the run starts as a page is; the other half follow
    /// the session's own stream from its start, as API clients do. All ask for compression, as browsers do.
    /// </summary>
    public static async Task<Result> RunAsync(AppHost app, string folder, ChildClients? viewers)
    {
        StartLevel(app);
        var frames = app.Services.GetRequiredService<SharedFrames>();
        var framesBefore = frames.FramesCompressed;
        if (viewers is not null)
        {
            await viewers.SendAsync("open");
            await viewers.ReadLineAsync(TimeSpan.FromMinutes(1));
        }

        using var http = app.CreateRealClient();
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var viewerCpuBefore = viewers?.ProcessorTime ?? TimeSpan.Zero;
        var id = await new Api(http).StartAsync(new { directory = folder, recursive = true, skip_existing = false });
        if (viewers is not null)
        {
            await viewers.SendAsync(id);
        }

        var registry = app.Services.GetRequiredService<IProgressRegistry>();
        using var subscription = registry.Subscribe(id)!;
        ProgressSnapshot snapshot;
        var seq = -1L;
        do
        {
            var update = await subscription.NextAsync(seq, CancellationToken.None) ?? throw new InvalidOperationException("session vanished");
            snapshot = update.Snapshot;
            seq = snapshot.Seq;
        }
        while (!snapshot.Status.IsTerminal());

        self.Refresh();
        var cpuMs = (self.TotalProcessorTime - cpuBefore).TotalMilliseconds;
        if (viewers is not null)
        {
            await viewers.ReadLineAsync(TimeSpan.FromSeconds(30));
        }

        var viewerCpuMs = viewers is null ? 0 : (viewers.ProcessorTime - viewerCpuBefore).TotalMilliseconds;

        var files = snapshot.Stats.ProcessedFiles;
        var seconds = (snapshot.EndTime!.Value - snapshot.StartTime).TotalSeconds;
        Console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"ingest run, {(viewers is null ? "no viewers" : "viewers")}: {files / seconds:F0} files/s, server CPU {cpuMs:F0} ms, viewers' CPU {viewerCpuMs:F0} ms, " +
            $"frames {frames.FramesCompressed - framesBefore}, streams open {app.Services.GetRequiredService<StreamGate>().OpenStreams}, sessions {registry.All().Count}"));
        return new Result(files / seconds, snapshot, frames.FramesCompressed - framesBefore, cpuMs * 1000 / files, viewerCpuMs * 1000 / files);
    }

    /// <summary>
    /// Every run starts from the same state, as a benchmark harness does between iterations: the catalog's
    /// write-ahead log checkpointed (so no run inherits another's checkpoint work) and the heap collected.
    /// </summary>
    private static void StartLevel(AppHost app)
    {
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={app.Services.GetRequiredService<IngestLite.Catalog.CatalogStore>().FilePath}"))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
