using System.Globalization;
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
    /// Ingest with and without <paramref name="viewers"/> live viewers (0: the same case on both sides), over a
    /// generated corpus: warm until steady, then <paramref name="rounds"/> rounds of two back-to-back runs in
    /// alternating order. Costs are medians of the paired ratios, with a distribution-free interval.
    /// </summary>
    public static async Task<(List<Row> Rows, List<Figure> Figures)> CompareAsync(AppHost app, int corpusSize, int viewers, int rounds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var corpus = BuildCorpus(app, corpusSize);
        Console.Error.WriteLine($"corpus of {corpusSize} files written in {clock.Elapsed.TotalSeconds:F1} s");
        using var viewerClients = viewers > 0 ? ChildClients.Start("viewers", app.BaseAddress, viewers) : null;
        ChildClients?[] sides = [null, viewerClients];

        // Tiered compilation takes several runs to reach steady code (cold runs here were 2x slower than warm ones):
        // untimed rounds until a round is no longer faster than the best before it, as a benchmark harness warms up.
        var best = 0.0;
        for (var warm = 0; warm < 12; warm++)
        {
            var rate = (await RunAsync(app, corpus, sides[0])).FilesPerSecond;
            await RunAsync(app, corpus, sides[1]);
            if (warm >= 2 && rate < best * 1.05)
            {
                Console.Error.WriteLine($"warm after {warm + 1} untimed rounds");
                break;
            }

            best = Math.Max(best, rate);
        }

        var rates = new List<double>[] { [], [] };
        var cpu = new List<double>[] { [], [] };
        var viewerCpu = new List<double>();
        ProgressSnapshot? final = null;
        var viewerFrames = 0L;
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which side goes first, so a drift within a round favours neither.
            foreach (var side in round % 2 == 0 ? new[] { 0, 1 } : [1, 0])
            {
                var run = await RunAsync(app, corpus, sides[side]);
                rates[side].Add(run.FilesPerSecond);
                cpu[side].Add(run.CpuMsPer1000Files);
                if (side == 1)
                {
                    viewerCpu.Add(run.ViewerCpuMsPer1000Files);
                }

                viewerFrames += run.Frames;
                final = run.Final;
            }
        }

        // Each round's two runs are neighbours in time: their ratio is steadier than a ratio of medians.
        static double Median(List<double> values) => Paired.MedianWithInterval(values).Median;
        var costs = Paired.MedianWithInterval([.. rates[0].Zip(rates[1], (alone, watched) => 100 * (1 - (watched / alone)))]);
        // CPU time is not stretched by what else the machine does, as wall time is.
        var cpuCosts = Paired.MedianWithInterval([.. cpu[0].Zip(cpu[1], (alone, watched) => 100 * ((watched / alone) - 1))]);
        List<Figure> figures =
        [
            new("ingest", $"cost of {viewers} viewers, median of {rounds} paired rounds", costs.Median, "%"),
            new("ingest", $"cost of {viewers} viewers, {costs.Coverage:P0} confidence interval of that median", costs.Low, $"% .. {costs.High:F1} %"),
            new("ingest", $"gzip frames compressed per run with {viewers} viewers (events are shared)", viewerFrames / (double)rounds, "frames"),
            new("ingest", "server CPU per 1,000 files, 0 viewers (median)", Median(cpu[0]), "ms"),
            new("ingest", $"server CPU per 1,000 files, {viewers} viewers (median)", Median(cpu[1]), "ms"),
            new("ingest", $"server CPU cost of {viewers} viewers, median of {rounds} paired rounds", cpuCosts.Median, "%"),
            new("ingest", $"server CPU cost of {viewers} viewers, {cpuCosts.Coverage:P0} confidence interval of that median", cpuCosts.Low, $"% .. {cpuCosts.High:F1} %"),
            new("ingest", $"the {viewers} viewer clients' own CPU per 1,000 files (same machine; median)", Median(viewerCpu), "ms"),
        ];

        var note = string.Create(CultureInfo.InvariantCulture, $"files/s over {corpusSize} files, one value per run; {final!.Stats.CommittedFiles} committed, {final.Stats.Errors} errors");
        List<Row> rows =
        [
            Row.From("ingest, 0 viewers", rates[0], note),
            Row.From($"ingest, {viewers} viewers{(viewers == 0 ? " (again)" : "")}", rates[1], note),
        ];
        return (rows, figures);
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
        var rate = files / (snapshot.EndTime!.Value - snapshot.StartTime).TotalSeconds;
        var compressed = frames.FramesCompressed - framesBefore;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest run, {(viewers is null ? "no viewers" : "viewers")}: {rate:F0} files/s, server CPU {cpuMs:F0} ms, viewers' CPU {viewerCpuMs:F0} ms, " +
            $"frames {compressed}, streams open {app.Services.GetRequiredService<StreamGate>().OpenStreams}, sessions {registry.All().Count}"));
        return new Result(rate, snapshot, compressed, cpuMs * 1000 / files, viewerCpuMs * 1000 / files);
    }

    /// <summary>
    /// Every run starts from the same state, as a benchmark harness does between iterations: the catalog's
    /// write-ahead log checkpointed (so no run inherits another's checkpoint work) and the heap collected.
    /// </summary>
    private static void StartLevel(AppHost app)
    {
        if (app.Services.GetRequiredService<IngestLite.Catalog.CatalogDatabase>().FilePath is { } file)
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}");
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
