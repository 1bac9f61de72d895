using System.Diagnostics;
using System.Globalization;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace IngestLite.Bench;

/// <summary>
/// Two nodes on one PostgreSQL: a worker's registry (in this process, as a worker's job would report) and a web node
/// (the app, Storage:Provider PostgreSql) that streams to clients. Measures report → client latency through the
/// backplane, the NOTIFYs a busy session costs, and how soon Hangfire on PostgreSQL starts an enqueued job.
/// </summary>
public static class ScaleOut
{
    public static async Task<(List<Row> Rows, List<Figure> Figures)> RunAsync(string work, bool quick)
    {
        var rows = new List<Row>();
        var figures = new List<Figure>();
        await using var database = await PostgresDatabase.CreateAsync();
        using var app = new AppHost(Path.Combine(work, "scaleout"), new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "PostgreSql",
            ["ConnectionStrings:IngestLite"] = database.ConnectionString,
            ["Stream:MaxStreams"] = "20000",
            ["Logging:LogLevel:Default"] = "Error",
        }).Start();
        await using var worker = await BackplaneNode.StartAsync(database.ConnectionString, "bench-worker");

        // Report → client: the worker publishes, the web node's streams deliver (gap above the streams' pace, as the latency scenario).
        var updates = quick ? 60 : 200;
        rows.Add(await HopAsync(app.Services.GetRequiredService<IProgressRegistry>(), worker, updates, warmUp: quick ? 10 : 40, TimeSpan.FromMilliseconds(150)));
        foreach (var clients in new[] { 1, 100 })
        {
            var row = await Latency.SseAsync(app, worker, clients, updates, warmUp: quick ? 10 : 40, TimeSpan.FromMilliseconds(150), samplesDirectory: null);
            rows.Add(row with { Scenario = $"backplane: worker → web node → SSE, {clients} stream{(clients == 1 ? "" : "s")}" });
        }

        figures.Add(await NotifyRateAsync(database, worker, changesPerSecond: 10_000, TimeSpan.FromSeconds(quick ? 2 : 5)));
        rows.Add(await EnqueueToStartAsync(app, database, jobs: quick ? 10 : 30));
        await worker.StopAsync(CancellationToken.None);
        figures.AddRange(await IngestRateAsync(Path.Combine(work, "scaleout-rate"), files: quick ? 1000 : 3000, rounds: quick ? 1 : 3));
        return (rows, figures);
    }

    /// <summary>The backplane's hop alone: the worker publishes, the web node's registry holds it (no stream, no client).</summary>
    private static async Task<Row> HopAsync(IProgressRegistry web, IProgressRegistry worker, int updates, int warmUp, TimeSpan gap)
    {
        updates += warmUp;
        var sessionId = $"bench-hop-{Guid.NewGuid():N}";
        var arrived = new long[updates + 2];
        using var stop = new CancellationTokenSource();
        using var subscription = web.SubscribeAll();
        var watching = Task.Run(async () =>
        {
            var version = web.Version;
            while (!stop.IsCancellationRequested)
            {
                await subscription.WaitAsync(version, stop.Token).AsTask().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                version = web.Version;
                if (web.Get(sessionId) is { } update && update.Snapshot.Seq < arrived.Length && arrived[update.Snapshot.Seq] == 0)
                {
                    arrived[update.Snapshot.Seq] = Stopwatch.GetTimestamp();
                }
            }
        });
        var published = await Latency.PublishSeriesAsync(worker, sessionId, updates, gap);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await watching;
        worker.Remove(sessionId);
        var measured = Enumerable.Range(warmUp + 1, updates - warmUp + 1).ToList();
        var samples = measured.Where(s => arrived[s] != 0).Select(s => Stopwatch.GetElapsedTime(published[s], arrived[s]).TotalMilliseconds).ToList();
        return Row.From("backplane: worker → web node's registry (the hop alone)", samples,
            $"{updates - warmUp} updates {gap.TotalMilliseconds:F0} ms apart after {warmUp} unmeasured; {measured.Count - samples.Count} not seen");
    }

    /// <summary>A session changing <paramref name="changesPerSecond"/> times a second: the NOTIFYs heard per second.</summary>
    private static async Task<Figure> NotifyRateAsync(PostgresDatabase database, PostgresProgressRegistry worker, int changesPerSecond, TimeSpan duration)
    {
        await using var listener = new NpgsqlConnection(database.ConnectionString);
        await listener.OpenAsync();
        var heard = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref heard);
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresProgressRegistry.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        using var stop = new CancellationTokenSource();
        var listening = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await listener.WaitAsync(stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        // Changes in ticks of 10 ms, at the asked rate.
        var sessionId = $"bench-notify-{Guid.NewGuid():N}";
        var perTick = changesPerSecond / 100;
        var clock = Stopwatch.StartNew();
        var seq = 0L;
        using (var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10)))
        {
            while (clock.Elapsed < duration && await tick.WaitForNextTickAsync())
            {
                var due = (long)(clock.Elapsed.TotalSeconds * changesPerSecond);
                while (seq < due)
                {
                    worker.Publish(Latency.Snapshot(sessionId, ++seq, SessionStatus.Processing));
                }
            }
        }

        var elapsed = clock.Elapsed;
        await worker.FlushAsync(CancellationToken.None);
        await Task.Delay(300);
        await stop.CancelAsync();
        await listening;
        var rate = heard / elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"backplane: {seq} changes in {elapsed.TotalSeconds:F1} s ({seq / elapsed.TotalSeconds:F0}/s, {perTick} per 10 ms): {heard} NOTIFYs"));
        return new Figure($"backplane: a session changing {seq / elapsed.TotalSeconds:#,0} times a second", "NOTIFYs per second", rate, "per s");
    }

    /// <summary>From Enqueued to Processing in Hangfire's own state history, for one-file ingests started one after another.</summary>
    private static async Task<Row> EnqueueToStartAsync(AppHost app, PostgresDatabase database, int jobs)
    {
        using var http = app.CreateRealClient();
        var api = new Api(http);
        var samples = new List<double>();
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        for (var i = 0; i < jobs; i++)
        {
            // Idle between jobs, as a user's next ingest comes: a polling worker would wait up to its interval.
            await Task.Delay(Random.Shared.Next(200, 700));
            MediaFactory.WritePng(Path.Combine(app.MediaRoot, $"one-{i}", "img.png"), 16, 16, null, seed: (byte)i);
            var id = await api.StartAsync(new { directory = $"one-{i}" });
            var jobId = await JobOfFinishedAsync(http, id);
            await using var command = new NpgsqlCommand("""
                SELECT extract(epoch FROM (min(createdat) FILTER (WHERE name = 'Processing') - min(createdat) FILTER (WHERE name = 'Enqueued'))) * 1000
                FROM hangfire.state WHERE jobid = @id
                """, connection);
            command.Parameters.AddWithValue("id", jobId);
            samples.Add(Convert.ToDouble(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
        }

        return Row.From("Hangfire on PostgreSQL: enqueued → processing", samples, $"{jobs} one-file ingests, 0.2–0.7 s apart; long polling on; ms from Hangfire's state history");
    }

    /// <summary>
    /// The same files ingested by an app process on the embedded storage and by one on PostgreSQL (jobs, catalog and
    /// progress there), alternately, each round on a fresh catalog: files/s from the session's start to its end.
    /// </summary>
    private static async Task<List<Figure>> IngestRateAsync(string work, int files, int rounds)
    {
        for (var i = 0; i < files; i++)
        {
            MediaFactory.WritePng(Path.Combine(work, "media", "rate", $"d{i / 500:D2}", $"img-{i:D5}.png"), 32, 32, null, seed: (byte)i);
        }

        var rates = new Dictionary<string, List<double>> { ["SQLite (embedded)"] = [], ["PostgreSQL"] = [] };
        for (var round = 0; round < rounds; round++)
        {
            foreach (var engine in rates.Keys)
            {
                await using var database = engine == "PostgreSQL" ? await PostgresDatabase.CreateAsync() : null;
                var settings = new Dictionary<string, string>
                {
                    ["Ingest:CatalogPath"] = Path.Combine(work, "data", $"catalog-{round}-{engine.Length}.db"),
                    ["Logging:LogLevel:Default"] = "Error",
                };
                if (database is not null)
                {
                    settings["Storage:Provider"] = "PostgreSql";
                    settings["ConnectionStrings:IngestLite"] = database.ConnectionString;
                }

                using var app = await ChildApp.StartAsync(work, settings);
                using var http = app.CreateClient();
                var id = await new Api(http).StartAsync(new { directory = "rate", recursive = true });
                await JobOfFinishedAsync(http, id);
                using var status = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"api/ingest/status/{id}"));
                var run = status.RootElement.GetProperty("end_time").GetDateTimeOffset() - status.RootElement.GetProperty("start_time").GetDateTimeOffset();
                rates[engine].Add(files / run.TotalSeconds);
            }
        }

        return [.. rates.Select(r => new Figure($"ingest of {files:N0} 32×32 PNGs, one app process, median of {rounds}", r.Key, r.Value.Order().ElementAt(r.Value.Count / 2), "files/s"))];
    }

    /// <summary>Waits until the session completes; its Hangfire job id.</summary>
    private static async Task<long> JobOfFinishedAsync(HttpClient http, string sessionId)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(1))
        {
            using var status = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"api/ingest/status/{sessionId}"));
            if (status.RootElement.GetProperty("status").GetString() == "completed")
            {
                return long.Parse(status.RootElement.GetProperty("job_id").GetString()!, CultureInfo.InvariantCulture);
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"session {sessionId} did not complete");
    }
}
