using System.Globalization;
using System.Text.Json;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Bench;

/// <summary>
/// Starts IngestLite in-process on Kestrel (127.0.0.1), drives it over real HTTP, prints a Markdown
/// table and, with --json PATH, writes the same figures as JSON. --quick finishes in under 2 minutes;
/// --only a,b runs some scenarios (latency, bandwidth, connections, fanout, soak, ingest, report).
/// </summary>
public static class BenchMain
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == ClientProcess.Mode)
        {
            return await ClientProcess.RunAsync(args[1..]);
        }

        var quick = args.Contains("--quick");
        var jsonPath = Option(args, "--json");
        var only = Option(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        bool Runs(string scenario) => only is null || only.Contains(scenario, StringComparer.OrdinalIgnoreCase);

        // WebApplicationFactory finds a test project's content root by a manifest; a console app says it here.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_INGESTLITE", FindAppRoot());
        var work = Path.Combine(Path.GetTempPath(), "ingestlite-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var rows = new List<Row>();
        var figures = new List<Figure>();
        var total = System.Diagnostics.Stopwatch.StartNew();
        using (var app = new AppHost(work, new Dictionary<string, string?>
        {
            ["Stream:MaxStreams"] = "20000",
            ["Logging:LogLevel:Default"] = "Error",
        }).Start())
        {
            var registry = app.Services.GetRequiredService<IProgressRegistry>();
            if (Runs("latency"))
            {
                var updates = quick ? 60 : 200;
                var gap = TimeSpan.FromMilliseconds(150);
                foreach (var clients in quick ? new[] { 1, 100 } : [1, 100, 1000])
                {
                    rows.Add(await Latency.SseAsync(app, registry, clients, updates, gap));
                }

                foreach (var interval in new[] { 1000, 100 })
                {
                    rows.Add(await Latency.PollingAsync(app, registry, interval, updates, gap));
                }
            }

            if (Runs("bandwidth"))
            {
                var slowFiles = quick ? 10 : 60;
                for (var i = 0; i < slowFiles; i++)
                {
                    MediaFactory.WritePng(Path.Combine(app.MediaRoot, "slow", $"img-{i:D3}.png"), 32, 32, null, seed: (byte)i);
                }

                app.SetSetting("Ingest:MaxFilesPerSecond", "1");
                figures.AddRange(Figures(await Bandwidth.RunAsync(app, $"slow run, {slowFiles} files at 1 file/s", new { directory = "slow" })));
                app.SetSetting("Ingest:MaxFilesPerSecond", null);

                var fastFiles = quick ? 500 : 2000;
                var fastCorpus = Throughput.BuildCorpus(app, fastFiles);
                figures.AddRange(Figures(await Bandwidth.RunAsync(app, $"fast run, {fastFiles} files", new { directory = fastCorpus, recursive = true, skip_existing = false })));

                // The same files at 200 files/s: where the fixed cost of opening a stream no longer dominates.
                app.SetSetting("Ingest:MaxFilesPerSecond", "200");
                figures.AddRange(Figures(await Bandwidth.RunAsync(app, $"fast run paced, {fastFiles} files at 200 files/s", new { directory = fastCorpus, recursive = true, skip_existing = false })));
                app.SetSetting("Ingest:MaxFilesPerSecond", null);
            }

            if (Runs("connections"))
            {
                foreach (var count in quick ? new[] { 1000 } : [1000, 5000])
                {
                    figures.AddRange(await Connections.IdleStreamsAsync(app, registry, count));
                }
            }

            if (Runs("fanout"))
            {
                figures.AddRange(await FanOut.RunAsync(app, registry, 1000, TimeSpan.FromSeconds(quick ? 3 : 10)));
            }

            if (Runs("soak"))
            {
                figures.AddRange(await Soak.RunAsync(app, sessions: quick ? 2 : 3, clientsPerKind: quick ? 20 : 100, files: 40));
            }

            if (Runs("ingest"))
            {
                var corpusSize = quick ? 1000 : 5000;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var corpus = Throughput.BuildCorpus(app, corpusSize);
                Console.Error.WriteLine($"corpus of {corpusSize} files written in {clock.Elapsed.TotalSeconds:F1} s");
                // --viewers 0 runs the same case on both sides (an A/A run: the noise floor of the comparison).
                var watchedBy = int.Parse(Option(args, "--viewers") ?? "100", CultureInfo.InvariantCulture);
                var rounds = int.Parse(Option(args, "--rounds") ?? (quick ? "3" : "40"), CultureInfo.InvariantCulture);
                using var viewerClients = watchedBy > 0 ? ChildClients.Start("viewers", app.BaseAddress, watchedBy) : null;
                ChildClients?[] sides = [null, viewerClients];

                // Tiered compilation takes several runs to reach steady code (cold runs here were 2x slower than warm ones):
                // untimed rounds until a round is no longer faster than the best before it, as a benchmark harness warms up.
                var best = 0.0;
                for (var warm = 0; warm < 12; warm++)
                {
                    var rate = (await Throughput.RunAsync(app, corpus, sides[0])).FilesPerSecond;
                    await Throughput.RunAsync(app, corpus, sides[1]);
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
                        var run = await Throughput.RunAsync(app, corpus, sides[side]);
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
                figures.Add(new("ingest", $"cost of {watchedBy} viewers, median of {rounds} paired rounds", costs.Median, "%"));
                figures.Add(new("ingest", $"cost of {watchedBy} viewers, {costs.Coverage:P0} confidence interval of that median", costs.Low, $"% .. {costs.High:F1} %"));
                figures.Add(new("ingest", $"gzip frames compressed per run with {watchedBy} viewers (events are shared)", viewerFrames / (double)rounds, "frames"));

                // CPU time is not stretched by what else the machine does, as wall time is.
                var cpuCosts = Paired.MedianWithInterval([.. cpu[0].Zip(cpu[1], (alone, watched) => 100 * ((watched / alone) - 1))]);
                figures.Add(new("ingest", "server CPU per 1,000 files, 0 viewers (median)", Median(cpu[0]), "ms"));
                figures.Add(new("ingest", $"server CPU per 1,000 files, {watchedBy} viewers (median)", Median(cpu[1]), "ms"));
                figures.Add(new("ingest", $"server CPU cost of {watchedBy} viewers, median of {rounds} paired rounds", cpuCosts.Median, "%"));
                figures.Add(new("ingest", $"server CPU cost of {watchedBy} viewers, {cpuCosts.Coverage:P0} confidence interval of that median", cpuCosts.Low, $"% .. {cpuCosts.High:F1} %"));
                figures.Add(new("ingest", $"the {watchedBy} viewer clients' own CPU per 1,000 files (same machine; median)", Median(viewerCpu), "ms"));

                for (var side = 0; side < 2; side++)
                {
                    rows.Add(Row.From($"ingest, {(side == 0 ? 0 : watchedBy)} viewers{(side == 1 && watchedBy == 0 ? " (again)" : "")}", rates[side],
                        string.Create(CultureInfo.InvariantCulture, $"files/s over {corpusSize} files, one value per run; {final!.Stats.CommittedFiles} committed, {final.Stats.Errors} errors")));
                }
            }
        }

        Console.WriteLine($"IngestLite benchmark ({(quick ? "quick" : "full")}) on {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {total.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine();
        Console.WriteLine("| scenario | n | min | p50 | p99 | max | unit, note |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {row.Scenario} | {row.Samples} | {row.Min:0.##} | {row.P50:0.##} | {row.P99:0.##} | {row.Max:0.##} | {row.Note} |"));
        }

        if (Runs("report"))
        {
            figures.AddRange(ReportCallBenchmarks.Run(quick));
        }

        Console.WriteLine();
        Console.WriteLine("| scenario | measure | value | unit |");
        Console.WriteLine("| --- | --- | ---: | --- |");
        foreach (var figure in figures)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {figure.Scenario} | {figure.Measure} | {figure.Value:#,0.##} | {figure.Unit} |"));
        }

        Console.WriteLine();
        foreach (var ratio in Ratios(rows, figures))
        {
            Console.WriteLine(ratio);
        }

        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(new { quick, cores = Environment.ProcessorCount, rows, figures, ratios = Ratios(rows, figures) }, new JsonSerializerOptions { WriteIndented = true }));
        }

        TryDelete(work);
        return 0;
    }

    /// <summary>Comparisons taken within this run.</summary>
    private static IEnumerable<Figure> Figures(Bandwidth.Result result) =>
    [
        new(result.Run, "bytes, SSE", result.SseBytes, "bytes"),
        new(result.Run, "bytes, polling every 1 s", result.Poll1000Bytes, "bytes"),
        new(result.Run, "bytes, polling every 100 ms", result.Poll100Bytes, "bytes"),
        new(result.Run, "SSE saves vs 1 s polling", 100.0 * (1 - ((double)result.SseBytes / result.Poll1000Bytes)), "%"),
        new(result.Run, "SSE saves vs 100 ms polling", 100.0 * (1 - ((double)result.SseBytes / result.Poll100Bytes)), "%"),
        new(result.Run, "run time", result.Seconds, "s"),
    ];

    private static IEnumerable<string> Ratios(List<Row> rows, List<Figure> figures)
    {
        _ = figures;
        Row? Find(string prefix) => rows.FirstOrDefault(r => r.Scenario.StartsWith(prefix, StringComparison.Ordinal));
        if (Find("SSE, 1 stream") is { } sse && Find("polling every 1000 ms") is { } poll)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"- latency p50, 1 s polling / SSE: {poll.P50 / Math.Max(sse.P50, 0.001):F0}x");
        }

        if (Find("ingest, 0 viewers") is { } alone && Find("ingest, 100 viewers") is { } watched)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"- ingest cost of 100 viewers, ratio of the medians: {(1 - (watched.P50 / alone.P50)) * 100:F1}%");
        }
    }

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private static string FindAppRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IngestLite.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("IngestLite.csproj not found above " + AppContext.BaseDirectory);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
