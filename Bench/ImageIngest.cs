using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using IngestLite.Jobs;
using IngestLite.Jobs.Stages;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IngestLite.Bench;

/// <summary>
/// Ingest of Stable-Diffusion-sized PNGs against a peer, in the same run: <c>pillow_ingest.py</c>, the per-file work of
/// a Pillow-based Python ingest (the stack of the app IngestLite replaces), on the same files, with and without
/// thumbnails; IngestLite with one and two workers, with and without thumbnails. Rounds alternate their order, so a
/// drift in the machine's speed favours no side; the ratios are medians of each round's own ratios. Then, on one
/// thread, where one file's time goes.
/// </summary>
public static class ImageIngest
{
    private sealed record Case(string Name, Func<Task<double>> Run);

    public static async Task<(List<Row> Rows, List<Figure> Figures)> RunAsync(AppHost app, int count, int rounds, string appRoot)
    {
        var clock = Stopwatch.StartNew();
        var files = SdCorpus.Write(Path.Combine(app.MediaRoot, "sd"), count);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count} SD PNGs ({files.Sum(f => new FileInfo(f).Length) / count / 1e6:F1} MB each) written in {clock.Elapsed.TotalSeconds:F1} s"));

        var peer = Peer.Find(appRoot);
        List<Case> cases = [];
        if (peer is not null)
        {
            cases.Add(new("peer, thumbnails", () => peer.RunAsync(Path.Combine(app.MediaRoot, "sd"), thumbnails: true)));
            cases.Add(new("peer, no thumbnails", () => peer.RunAsync(Path.Combine(app.MediaRoot, "sd"), thumbnails: false)));
        }

        foreach (var workers in new[] { 1, 2 })
        {
            cases.Add(new($"IngestLite, {workers} worker{(workers > 1 ? "s" : "")}, thumbnails", () => IngestAsync(app, workers, thumbnails: true)));
            cases.Add(new($"IngestLite, {workers} worker{(workers > 1 ? "s" : "")}, no thumbnails", () => IngestAsync(app, workers, thumbnails: false)));
        }

        // One untimed round: the first runs pay for the cold page cache and unjitted code.
        foreach (var c in cases)
        {
            await c.Run();
        }

        var rates = cases.ToDictionary(c => c.Name, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var c in round % 2 == 0 ? cases : Enumerable.Reverse(cases))
            {
                var rate = await c.Run();
                rates[c.Name].Add(rate);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c.Name}: {rate:F1} files/s"));
            }
        }

        var defaults = new IngestOptions();
        app.SetSetting("Ingest:WorkerCount", defaults.WorkerCount.ToString(CultureInfo.InvariantCulture));
        app.SetSetting("Ingest:ThumbnailSize", defaults.ThumbnailSize.ToString(CultureInfo.InvariantCulture));

        var note = string.Create(CultureInfo.InvariantCulture, $"files/s over {count} PNGs of {SdCorpus.Side}x{SdCorpus.Side}, one value per run");
        var rows = cases.Select(c => Row.From($"SD PNGs: {c.Name}", [.. rates[c.Name]], c.Name.StartsWith("peer", StringComparison.Ordinal) ? note + ", one Python process" : note)).ToList();

        List<Figure> figures = [];
        void Ratio(string measure, string over, string under, string unit = "x")
        {
            if (rates.TryGetValue(over, out var a) && rates.TryGetValue(under, out var b))
            {
                figures.Add(new("SD PNGs", measure + $", median of {rounds} rounds' ratios", Paired.MedianWithInterval([.. a.Zip(b, (x, y) => x / y)]).Median, unit));
            }
        }

        Ratio("IngestLite 1 worker / peer, both with thumbnails (goal >= 1.5)", "IngestLite, 1 worker, thumbnails", "peer, thumbnails");
        Ratio("IngestLite 2 workers / 1 worker, with thumbnails (goal >= 1.8)", "IngestLite, 2 workers, thumbnails", "IngestLite, 1 worker, thumbnails");
        Ratio("IngestLite 1 worker / peer, both without thumbnails", "IngestLite, 1 worker, no thumbnails", "peer, no thumbnails");
        Ratio("IngestLite 1 worker, with / without thumbnails", "IngestLite, 1 worker, thumbnails", "IngestLite, 1 worker, no thumbnails");
        Ratio("IngestLite 2 workers, with / without thumbnails", "IngestLite, 2 workers, thumbnails", "IngestLite, 2 workers, no thumbnails");
        Ratio("peer, with / without thumbnails", "peer, thumbnails", "peer, no thumbnails");
        if (peer is null)
        {
            figures.Add(new("SD PNGs", "peer not run: no python3 that imports PIL and numpy (Debian: python3-pil python3-numpy)", double.NaN, ""));
        }

        figures.AddRange(StageCosts(files.Take(Math.Min(count, 60)).ToList(), app.Services.GetRequiredService<IOptions<IngestOptions>>().Value.ThumbnailSize));
        return (rows, figures);
    }

    /// <summary>One ingest of the corpus with these settings and no thumbnail made before; files per second by the session's own clock.</summary>
    private static async Task<double> IngestAsync(AppHost app, int workers, bool thumbnails)
    {
        app.SetSetting("Ingest:WorkerCount", workers.ToString(CultureInfo.InvariantCulture));
        app.SetSetting("Ingest:ThumbnailSize", thumbnails ? new IngestOptions().ThumbnailSize.ToString(CultureInfo.InvariantCulture) : "0");
        var store = app.Services.GetRequiredService<IOptions<IngestOptions>>().Value.ThumbnailPath!;
        if (Directory.Exists(store))
        {
            Directory.Delete(store, recursive: true);
        }

        var run = await Throughput.RunAsync(app, "sd", viewers: null);
        if (run.Final.Stats.Errors > 0 || run.Final.Stats.CommittedFiles != run.Final.Stats.TotalFiles)
        {
            throw new InvalidOperationException($"the SD run committed {run.Final.Stats.CommittedFiles} of {run.Final.Stats.TotalFiles} with {run.Final.Stats.Errors} errors");
        }

        return run.FilesPerSecond;
    }

    /// <summary>Where one file's time goes, on one thread, as the ingest's stages do it: the median of each stage over the files.</summary>
    private static IEnumerable<Figure> StageCosts(List<string> files, int thumbnailSide)
    {
        var stages = new (string Name, Action<byte[]> Work)[]
        {
            ("SHA-256", bytes => SHA256.HashData(bytes)),
            ("metadata (dimensions, text chunks, generation parameters)", bytes => MediaMetadataReader.Read(new MemoryStream(bytes))),
            ("decode and perceptual hash", bytes => PerceptualHash.Decode(new MemoryStream(bytes), 0)),
            ($"decode, perceptual hash and {thumbnailSide} px WebP thumbnail", bytes => PerceptualHash.Decode(new MemoryStream(bytes), thumbnailSide)),
        };
        var read = new List<double>();
        var times = stages.Select(_ => new List<double>()).ToArray();
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var file in files)
            {
                var start = Stopwatch.GetTimestamp();
                // As the ingest reads: into a pooled buffer, sized as the file.
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
                var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)stream.Length + 1);
                var bytes = buffer.AsSpan(0, stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)).ToArray();
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                read.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                for (var s = 0; s < stages.Length; s++)
                {
                    start = Stopwatch.GetTimestamp();
                    stages[s].Work(bytes);
                    if (pass == 1)
                    {
                        times[s].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    }
                }
            }
        }

        yield return new("SD PNGs, one file on one thread", "read the file (warm page cache)", Paired.MedianWithInterval(read).Median, "ms");
        for (var s = 0; s < stages.Length; s++)
        {
            yield return new("SD PNGs, one file on one thread", stages[s].Name, Paired.MedianWithInterval(times[s]).Median, "ms");
        }
    }

    /// <summary>The Python peer: <c>pillow_ingest.py</c> under a python3 that has Pillow and NumPy.</summary>
    private sealed class Peer(string python, string script)
    {
        public static Peer? Find(string appRoot)
        {
            var script = Path.Combine(Environment.GetEnvironmentVariable("INGESTLITE_PEERS") ?? Path.Combine(appRoot, "..", "shared", "peers"), "pillow_ingest.py");
            if (!File.Exists(script))
            {
                Console.Error.WriteLine($"peer not run: {script} not found (set INGESTLITE_PEERS)");
                return null;
            }

            foreach (var python in new[] { Environment.GetEnvironmentVariable("INGESTLITE_PYTHON"), "/usr/bin/python3", "python3" })
            {
                if (python is { Length: > 0 } && Exec(python, "-c \"import PIL, numpy\"").ExitCode == 0)
                {
                    return new Peer(python, script);
                }
            }

            Console.Error.WriteLine("peer not run: no python3 imports PIL and numpy (Debian: apt-get install python3-pil python3-numpy)");
            return null;
        }

        public Task<double> RunAsync(string folder, bool thumbnails)
        {
            var (code, output) = Exec(python, $"\"{script}\" \"{folder}\"{(thumbnails ? "" : " --no-thumbnails")}");
            // "N files in S s: R files/s (one process)"
            var rate = output.Split(':', 2) is [_, var tail] ? tail.Trim().Split(' ')[0] : "";
            return code == 0 && double.TryParse(rate, CultureInfo.InvariantCulture, out var value)
                ? Task.FromResult(value)
                : throw new InvalidOperationException($"the peer failed ({code}): {output}");
        }

        private static (int ExitCode, string Output) Exec(string file, string arguments)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
                process.WaitForExit();
                return (process.ExitCode, output.Trim());
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                return (-1, ex.Message);
            }
        }
    }
}
