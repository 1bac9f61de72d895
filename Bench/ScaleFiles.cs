using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using IngestLite.Tests.Support;

namespace IngestLite.Bench;

/// <summary>
/// One session over many tiny files (10k, 100k, 1M), each size in a fresh app process with a fresh catalog: how long
/// discovery takes (the POST that starts the session), the run's files/s, and the process's memory (idle, peak from
/// the kernel's high-water mark, after the run), so that a size's cost per file can be put beside another's.
/// With --scale-storage PostgreSql (and INGESTLITE_POSTGRES) the app keeps its jobs and catalog there.
/// </summary>
public static class ScaleFiles
{
    public static async Task<List<Figure>> RunAsync(string work, IReadOnlyList<int> sizes, bool postgres)
    {
        var figures = new List<Figure>();
        foreach (var size in sizes)
        {
            var root = Path.Combine(work, $"scale-{size}");
            var folder = Path.Combine(root, "media", "many");
            var clock = Stopwatch.StartNew();
            Write(folder, size);
            Console.Error.WriteLine($"scale: {size:N0} files written in {clock.Elapsed.TotalSeconds:F1} s");

            var settings = new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Error" };
            await using var database = postgres ? await PostgresDatabase.CreateAsync() : null;
            if (database is not null)
            {
                settings["Storage:Provider"] = "PostgreSql";
                settings["ConnectionStrings:IngestLite"] = database.ConnectionString;
            }

            using var app = await ChildApp.StartAsync(root, settings);
            using var http = app.CreateClient();
            http.Timeout = TimeSpan.FromMinutes(10);
            await Task.Delay(TimeSpan.FromSeconds(2));
            var idle = Memory(app.ProcessId, "VmRSS");

            clock.Restart();
            using var started = await http.PostAsJsonAsync("api/ingest/process", new { parameters = new { directory = "many", recursive = true } });
            var discovery = clock.Elapsed;
            var body = await started.Content.ReadAsStringAsync();
            if (!started.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"process failed: {body}");
            }

            var id = JsonDocument.Parse(body).RootElement.GetProperty("session_id").GetString()!;
            JsonElement status;
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                status = JsonDocument.Parse(await http.GetStringAsync($"api/ingest/status/{id}")).RootElement;
                if (status.GetProperty("status").GetString() is not ("starting" or "processing"))
                {
                    break;
                }
            }

            var run = status.GetProperty("end_time").GetDateTimeOffset() - status.GetProperty("start_time").GetDateTimeOffset();
            var committed = status.GetProperty("stats").GetProperty("committed_files").GetInt32();
            var peak = Memory(app.ProcessId, "VmHWM");
            await Task.Delay(TimeSpan.FromSeconds(2));
            var after = Memory(app.ProcessId, "VmRSS");
            var name = $"scale: one session of {size:N0} tiny files{(postgres ? ", on PostgreSQL" : "")}";
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {status.GetProperty("status").GetString()}, {committed:N0} committed; discovery {discovery.TotalSeconds:F1} s, run {run.TotalSeconds:F1} s; RSS idle {idle:F0} MB, peak {peak:F0} MB, after {after:F0} MB"));
            figures.Add(new Figure(name, "discovery (the POST)", discovery.TotalSeconds, "s"));
            figures.Add(new Figure(name, "files/s over the run", committed / run.TotalSeconds, "files/s"));
            figures.Add(new Figure(name, "RSS idle → peak growth", peak - idle, "MB"));
            figures.Add(new Figure(name, "RSS after the run above idle", after - idle, "MB"));
            BenchMain.TryDelete(root);
        }

        return figures;
    }

    /// <summary>Tiny PNGs, 1,000 per folder, each distinct (its number in a text chunk).</summary>
    private static void Write(string folder, int count)
    {
        for (var d = 0; d * 1000 < count; d++)
        {
            Directory.CreateDirectory(Path.Combine(folder, $"d{d:D4}"));
        }

        Parallel.For(0, count, i => MediaFactory.WritePng(
            Path.Combine(folder, $"d{i / 1000:D4}", $"f{i:D7}.png"), 4, 4, [("n", i.ToString(CultureInfo.InvariantCulture))], seed: (byte)i));
    }

    /// <summary>A line of /proc/PID/status in MB (VmRSS now, VmHWM its peak).</summary>
    private static double Memory(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
    }
}
