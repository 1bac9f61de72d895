using System.Globalization;
using System.Text.Json;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Bench;

/// <summary>
/// Starts IngestLite in-process on Kestrel (127.0.0.1), drives it over real HTTP, prints a Markdown
/// table and, with --json PATH, writes the same figures as JSON. --quick finishes in under 2 minutes;
/// --only a,b runs some scenarios (latency, bandwidth, connections, fanout, soak, catalog, images, watch, ingest, scaleout, report);
/// scale (only when named: --only scale [--scale-sizes 10000,100000,1000000] [--scale-storage PostgreSql]) runs one
/// session of many tiny files per size.
/// scaleout needs INGESTLITE_POSTGRES (e.g. bash -c 'source scripts/postgres.sh; dotnet run -c Release --project Bench -- --only scaleout').
/// --images N sets how many 1024x1024 PNGs the images scenario ingests against the Python peer;
/// --catalog-sizes 10000,1000000 sets the catalog scenario's row counts; --catalog-keep DIR keeps the filled catalogs there for later runs;
/// --clients 1,100 runs only those SSE latency rows (no polling rows); --samples DIR writes every SSE latency sample there.
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
                // The client process is new for each row: its first events run unjitted code, and tiered compilation
                // (with dynamic PGO) takes a few seconds to settle. Measured: of the first 30 bursts after 10 warm-up
                // updates 14% had a stall over 4 ms, of the later ones 3%.
                var warmUp = quick ? 10 : 40;
                var onlyClients = Option(args, "--clients")?.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
                foreach (var clients in onlyClients ?? (quick ? [1, 100] : [1, 100, 1000]))
                {
                    rows.Add(await Latency.SseAsync(app, registry, clients, updates, warmUp, gap, Option(args, "--samples")));
                }

                foreach (var interval in onlyClients is null ? new[] { 1000, 100 } : [])
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

            if (Runs("catalog"))
            {
                var sizes = Option(args, "--catalog-sizes")?.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
                Directory.CreateDirectory(work);
                rows.AddRange(await CatalogScale.RunAsync(work, sizes ?? (quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]), Option(args, "--catalog-keep")));
            }

            if (Runs("images"))
            {
                var (imageRows, imageFigures) = await ImageIngest.RunAsync(app, count: int.Parse(Option(args, "--images") ?? (quick ? "60" : "300"), CultureInfo.InvariantCulture),
                    rounds: quick ? 1 : 3, FindAppRoot());
                rows.AddRange(imageRows);
                figures.AddRange(imageFigures);
            }

            if (Runs("watch"))
            {
                figures.AddRange(await WatchDrop.RunAsync(app, quick ? [1_000] : [1_000, 10_000]));
            }

            if (Runs("ingest"))
            {
                // --viewers 0 runs the same case on both sides (an A/A run: the noise floor of the comparison).
                var (ingestRows, ingestFigures) = await Throughput.CompareAsync(
                    app,
                    corpusSize: quick ? 1000 : 5000,
                    viewers: int.Parse(Option(args, "--viewers") ?? "100", CultureInfo.InvariantCulture),
                    rounds: int.Parse(Option(args, "--rounds") ?? (quick ? "3" : "40"), CultureInfo.InvariantCulture));
                rows.AddRange(ingestRows);
                figures.AddRange(ingestFigures);
            }
        }

        if (Runs("catalog") && Directory.Exists(work) && Directory.GetFiles(work, "catalog-*.db").OrderBy(f => new FileInfo(f).Length).LastOrDefault() is { } largest)
        {
            // After the main app is gone: these apps start one at a time, as Hangfire's static storage wants.
            rows.AddRange(await CatalogScale.InsertRateAsync(work, largest, rounds: quick ? 2 : 4, files: quick ? 1000 : 2000));
        }

        if (only is not null && Runs("scale"))
        {
            // Not in a default run: the 1M size writes a million files and runs for many minutes. --scale-sizes picks sizes.
            var sizes = (Option(args, "--scale-sizes") ?? (quick ? "10000" : "10000,100000,1000000")).Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToList();
            var postgres = string.Equals(Option(args, "--scale-storage"), "PostgreSql", StringComparison.OrdinalIgnoreCase);
            figures.AddRange(await ScaleFiles.RunAsync(work, sizes, postgres));
        }

        // Needs a PostgreSQL server: INGESTLITE_POSTGRES (scripts/postgres.sh starts a throwaway one). A run that does
        // not name it goes without it when there is none, and says so.
        var postgresAvailable = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("INGESTLITE_POSTGRES"));
        if (only is null && !postgresAvailable)
        {
            Console.Error.WriteLine("scaleout: skipped, no PostgreSQL (INGESTLITE_POSTGRES unset; `source scripts/postgres.sh` starts one)");
        }
        else if (Runs("scaleout"))
        {
            var (scaleRows, scaleFigures) = await ScaleOut.RunAsync(work, quick);
            rows.AddRange(scaleRows);
            figures.AddRange(scaleFigures);
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

    internal static void TryDelete(string directory)
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
