using System.Diagnostics;
using System.Globalization;
using System.Text;
using IngestLite.Catalog;

namespace IngestLite.Bench;

/// <summary>
/// Search and facets at catalog sizes a library of AI images reaches: a catalog filled directly (rows shaped like
/// generated images: models, samplers, schedulers, LoRAs and sizes in skewed proportions, prompts from a
/// 2,000-word vocabulary), then a mix of queries timed through <see cref="MediaCatalog"/>, each repeated.
/// </summary>
public static class CatalogScale
{
    private const int Repeats = 20;

    /// <param name="keep">A folder where filled catalogs are kept and reused by later runs (a million rows take ~3.5 minutes to fill), or null.</param>
    public static async Task<List<Row>> RunAsync(string work, IReadOnlyList<int> sizes, string? keep = null)
    {
        var rows = new List<Row>();
        foreach (var size in sizes)
        {
            var path = Path.Combine(keep ?? work, $"catalog-{size}.db");
            var reused = File.Exists(path);
            await using var database = new CatalogDatabase(path);
            var fill = Stopwatch.StartNew();
            if (!reused)
            {
                await FillAsync(database, size);
            }

            Console.Error.WriteLine($"  catalog of {size:N0} rows {(reused ? "reused" : "filled")} in {fill.Elapsed.TotalSeconds:F1} s, {new FileInfo(path).Length / 1e6:F0} MB");
            if (keep is not null && size == sizes.Max())
            {
                // The insert-rate rounds add rows: they get a copy.
                await using (var connection = await database.OpenReadAsync(CancellationToken.None))
                {
                    await using var checkpoint = connection.CreateCommand();
                    checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
                    await checkpoint.ExecuteNonQueryAsync();
                }

                File.Copy(path, Path.Combine(work, $"catalog-{size}.db"), overwrite: true);
            }
            var catalog = new MediaCatalog(database, TimeProvider.System);
            var label = size >= 1_000_000 ? $"{size / 1_000_000}M" : $"{size / 1000}k";
            var searches = new (string Name, MediaFilter Filter, MediaSort Sort)[]
            {
                ("newest", new MediaFilter(), MediaSort.Date),
                ("word", new MediaFilter { Text = "castle" }, MediaSort.Date),
                ("two words", new MediaFilter { Text = "misty forest" }, MediaSort.Date),
                ("prefix", new MediaFilter { Text = "gold*" }, MediaSort.Date),
                ("phrase", new MediaFilter { Text = "\"golden hour\"" }, MediaSort.Date),
                ("model", new MediaFilter { Models = ["model-03"] }, MediaSort.Date),
                ("sampler + steps", new MediaFilter { Samplers = ["Euler a"], Steps = new Range<int>(25, 35) }, MediaSort.Date),
                ("lora", new MediaFilter { Loras = ["lora-017"] }, MediaSort.Date),
                ("word + model, by score", new MediaFilter { Text = "castle", Models = ["model-01"] }, MediaSort.Score),
            };
            var search = new List<double>();
            foreach (var (name, filter, sort) in searches)
            {
                var times = await TimeAsync(() => catalog.SearchAsync(filter, sort, 100, 0, CancellationToken.None));
                rows.Add(Row.From($"search {label}: {name}", times, "ms"));
                search.AddRange(times);
            }

            rows.Add(Row.From($"search {label}: all of the above", search, "ms"));
            var facets = new List<double>();
            foreach (var (name, filter) in new (string, MediaFilter)[] { ("none", new MediaFilter()), ("word", new MediaFilter { Text = "castle" }), ("model", new MediaFilter { Models = ["model-03"] }) })
            {
                var times = await TimeAsync(() => catalog.FacetsAsync(filter, 10, CancellationToken.None));
                rows.Add(Row.From($"facets {label}: {name}", times, "ms"));
                facets.AddRange(times);
            }

            rows.Add(Row.From($"facets {label}: all of the above", facets, "ms"));

            // Near-duplicates: the index's first load, then lookups of catalogued hashes (each has neighbours planted 1-6 bits away).
            var index = new PerceptualIndex(database);
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var load = Stopwatch.StartNew();
            index.HashOf(1);
            Console.Error.WriteLine($"  near-duplicate index of {index.Count:N0} images loaded in {load.Elapsed.TotalMilliseconds:F0} ms, {(GC.GetTotalMemory(forceFullCollection: true) - before) / 1e6:F0} MB");
            var random = new Random(7);
            var lookups = new List<double>();
            for (var i = 0; i < 200; i++)
            {
                var hash = index.HashOf(random.Next(1, size + 1)) ?? 0;
                var clock = Stopwatch.StartNew();
                index.Near(hash, 6, 50);
                lookups.Add(clock.Elapsed.TotalMilliseconds);
            }

            rows.Add(Row.From($"similar {label}: distance 6", lookups, "ms"));
        }

        return rows;
    }

    /// <summary>
    /// The ingest's insert rate into a full catalog against an empty one. Each round starts an app on each side in
    /// turn (alternating which goes first): an app on <paramref name="fullCatalog"/>, and one on a new, empty catalog.
    /// Each app ingests an untimed corpus first (so it has loaded its in-memory columns and indexes, and jitted), then
    /// three timed corpora of new files; the round's figure for a side is the median of its three. Files/s from the
    /// session's own clock; the cost is the median of the rounds' paired ratios.
    /// </summary>
    public static async Task<List<Row>> InsertRateAsync(string work, string fullCatalog, int rounds, int files)
    {
        var rates = new Dictionary<string, List<double>> { ["empty"] = [], ["full"] = [] };
        var label = Path.GetFileNameWithoutExtension(fullCatalog).Replace("catalog-", "", StringComparison.Ordinal);
        var corpus = 0;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var side in round % 2 == 0 ? new[] { "empty", "full" } : ["full", "empty"])
            {
                var directory = Path.Combine(work, $"insert-{side}-{round}");
                using var app = new Tests.Support.AppHost(directory, new Dictionary<string, string?>
                {
                    ["Ingest:CatalogPath"] = side == "full" ? fullCatalog : Path.Combine(directory, "catalog.db"),
                    ["Logging:LogLevel:Default"] = "Error",
                }).Start();
                // Each corpus has new paths (its folder is named by its size), so every file is an insert.
                await Throughput.RunAsync(app, Throughput.BuildCorpus(app, files + corpus++), viewers: null);
                var timed = new List<double>();
                for (var run = 0; run < 3; run++)
                {
                    timed.Add((await Throughput.RunAsync(app, Throughput.BuildCorpus(app, files + corpus++), viewers: null)).FilesPerSecond);
                }

                rates[side].Add(Paired.MedianWithInterval(timed).Median);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  insert into {side} catalog: {rates[side][^1]:F0} files/s (median of 3)"));
            }
        }

        var cost = Paired.MedianWithInterval([.. rates["empty"].Zip(rates["full"], (empty, full) => 100 * (1 - (full / empty)))]);
        var note = string.Create(CultureInfo.InvariantCulture,
            $"files/s, ingest of {files} new small files, 2 workers, all stages, one value per round; the full catalog costs {cost.Median:F1}% (median of {rounds} rounds' ratios; range {cost.Low:F1}..{cost.High:F1})");
        return [Row.From("ingest into an empty catalog", rates["empty"], note), Row.From($"ingest into a catalog of {label} rows", rates["full"], note)];
    }

    private static async Task<List<double>> TimeAsync<T>(Func<Task<T>> query)
    {
        await query();
        var times = new List<double>();
        for (var i = 0; i < Repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            await query();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        return times;
    }

    /// <summary>Fills the catalog through plain SQL (the ingest's path is the bench's ingest scenario), 50,000 rows a transaction.</summary>
    private static async Task FillAsync(CatalogDatabase database, int count)
    {
        var random = new Random(42);
        var words = Enumerable.Range(0, 2000).Select(i => Word(i)).ToArray();
        string[] samplers = ["Euler a", "Euler", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE", "DDIM", "UniPC", "LMS", "Heun", "DPM2", "dpmpp_2m", "euler_ancestral"];
        string[] schedulers = ["Karras", "Automatic", "Exponential", "normal", "simple"];
        (int W, int H)[] sizes = [(1024, 1024), (832, 1216), (1216, 832), (512, 512), (768, 768), (896, 1152), (1152, 896), (512, 768)];
        int Skewed(int n) => (int)Math.Min(n - 1, Math.Floor(n * Math.Pow(random.NextDouble(), 2)));
        for (var done = 0; done < count;)
        {
            var batch = Math.Min(50_000, count - done);
            var first = done;
            await database.WriteAsync(async (connection, transaction, ct) =>
            {
                var media = (Microsoft.Data.Sqlite.SqliteCommand)connection.CreateCommand();
                media.Transaction = (Microsoft.Data.Sqlite.SqliteTransaction)transaction;
                media.CommandText = """
                    INSERT INTO media(path, dir, name, size, mtime, kind, sha256, width, height, prompt, negative_prompt, steps, sampler,
                        scheduler, cfg_scale, seed, model, score, phash, ingested_at, generator)
                    VALUES($path, $dir, $name, 1500000, $mtime, 'image', $sha, $w, $h, $prompt, $negative, $steps, $sampler,
                        $scheduler, $cfg, $seed, $model, $score, $phash, '2026-12-01T00:00:00.000Z', 'a1111') RETURNING id
                    """;
                var p = new Dictionary<string, Microsoft.Data.Sqlite.SqliteParameter>();
                foreach (var name in new[] { "$path", "$dir", "$name", "$mtime", "$sha", "$w", "$h", "$prompt", "$negative", "$steps", "$sampler", "$scheduler", "$cfg", "$seed", "$model", "$score", "$phash" })
                {
                    p[name] = media.Parameters.Add(name, Microsoft.Data.Sqlite.SqliteType.Text);
                }

                var fts = (Microsoft.Data.Sqlite.SqliteCommand)connection.CreateCommand();
                fts.Transaction = (Microsoft.Data.Sqlite.SqliteTransaction)transaction;
                fts.CommandText = "INSERT INTO media_fts(rowid, prompt, negative_prompt, path) VALUES($id, $prompt, $negative, $path)";
                var fId = fts.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
                var fPrompt = fts.Parameters.Add("$prompt", Microsoft.Data.Sqlite.SqliteType.Text);
                var fNegative = fts.Parameters.Add("$negative", Microsoft.Data.Sqlite.SqliteType.Text);
                var fPath = fts.Parameters.Add("$path", Microsoft.Data.Sqlite.SqliteType.Text);
                var lora = (Microsoft.Data.Sqlite.SqliteCommand)connection.CreateCommand();
                lora.Transaction = (Microsoft.Data.Sqlite.SqliteTransaction)transaction;
                lora.CommandText = "INSERT OR IGNORE INTO media_loras(media_id, name, weight) VALUES($id, $name, $weight)";
                var lId = lora.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
                var lName = lora.Parameters.Add("$name", Microsoft.Data.Sqlite.SqliteType.Text);
                var lWeight = lora.Parameters.Add("$weight", Microsoft.Data.Sqlite.SqliteType.Real);
                var prompt = new StringBuilder();
                for (var i = first; i < first + batch; i++)
                {
                    var dir = $"gen/{i / 1000:D4}";
                    var name = $"{i:D8}.png";
                    prompt.Clear();
                    for (var w = 20 + random.Next(20); w > 0; w--)
                    {
                        prompt.Append(words[Skewed(words.Length)]).Append(w % 4 == 0 ? ", " : " ");
                    }

                    var size = sizes[Skewed(sizes.Length)];
                    p["$path"].Value = $"{dir}/{name}";
                    p["$dir"].Value = dir;
                    p["$name"].Value = name;
                    p["$mtime"].Value = 1_700_000_000_000L + (i * 60_000L);
                    p["$sha"].Value = i.ToString("x64", CultureInfo.InvariantCulture);
                    p["$w"].Value = size.W;
                    p["$h"].Value = size.H;
                    p["$prompt"].Value = prompt.ToString();
                    p["$negative"].Value = "blurry, lowres, bad anatomy, watermark";
                    p["$steps"].Value = 10 + random.Next(50);
                    p["$sampler"].Value = samplers[Skewed(samplers.Length)];
                    p["$scheduler"].Value = schedulers[Skewed(schedulers.Length)];
                    p["$cfg"].Value = Math.Round(1 + (random.NextDouble() * 11), 1);
                    p["$seed"].Value = random.NextInt64(0, 4_294_967_295L);
                    p["$model"].Value = $"model-{Skewed(20):D2}";
                    p["$score"].Value = random.Next(6);
                    p["$phash"].Value = random.NextInt64(long.MinValue, long.MaxValue);
                    var id = (long)(await media.ExecuteScalarAsync(ct))!;
                    fId.Value = id;
                    fPrompt.Value = p["$prompt"].Value;
                    fNegative.Value = p["$negative"].Value;
                    fPath.Value = p["$path"].Value;
                    await fts.ExecuteNonQueryAsync(ct);
                    for (var l = random.Next(4); l > 0; l--)
                    {
                        lId.Value = id;
                        lName.Value = $"lora-{Skewed(200):D3}";
                        lWeight.Value = Math.Round(0.3 + random.NextDouble(), 2);
                        await lora.ExecuteNonQueryAsync(ct);
                    }
                }
            }, CancellationToken.None);
            done += batch;
        }
    }

    /// <summary>A vocabulary with the words the queries use among its most frequent ones.</summary>
    private static string Word(int i) => i switch
    {
        3 => "castle",
        5 => "misty",
        8 => "forest",
        12 => "golden",
        13 => "hour",
        _ => "w" + i.ToString(CultureInfo.InvariantCulture),
    };
}
