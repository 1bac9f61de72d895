using IngestLite.Catalog;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Unit;

/// <summary>The in-memory facet counts: loaded from the catalog, kept current by commits, replacing a file's old values.</summary>
[TestFixture(CatalogBackend.Sqlite)]
[TestFixture(CatalogBackend.PostgreSql)]
public sealed class CatalogColumnsTests(CatalogBackend backend)
{
    private static MediaRecord Image(string path, string? model, string? sampler, int width, params string[] loras) =>
        new(path, 1, DateTimeOffset.UnixEpoch, "image", new string('a', 64), width, width, Model: model, Sampler: sampler,
            LoraWeights: [.. loras.Select(l => new LoraUse(l, 1))]);

    private static IEnumerable<string> Shown(IReadOnlyList<FacetValue> values) => values.Select(v => $"{v.Value}:{v.Count}");

    [Test]
    public async Task Totals_follow_every_commit_and_match_the_counts_under_a_filter_that_keeps_every_file()
    {
        await using var catalog = await TestCatalog.CreateAsync(backend);
        var database = catalog.Database;
        var media = new MediaCatalog(database, TimeProvider.System);
        var store = new SessionStore(database, media, new PerceptualIndex(database));
        async Task CommitAsync(MediaRecord record) =>
            await store.CommitFileAsync("s", 1, record, new SessionFileResult(record.Path, FileStates.Committed, "commit", null, 1, 0), default, CancellationToken.None);

        // Two files before the index is first used (it loads them), then changes after it (it follows them).
        await CommitAsync(Image("a.png", "sdxl", "Euler", 1024, "detail", "style"));
        await CommitAsync(Image("b.png", "sdxl", "Euler a", 512, "detail"));
        var before = await media.FacetsAsync(new MediaFilter(), 10, CancellationToken.None);
        Assert.That(Shown(before.Model), Is.EqualTo(new[] { "sdxl:2" }));
        Assert.That(Shown(before.Lora), Is.EqualTo(new[] { "detail:2", "style:1" }));

        await CommitAsync(Image("b.png", "flux", "Euler a", 512));
        await CommitAsync(Image("c.png", null, null, 768, "style"));
        var totals = await media.FacetsAsync(new MediaFilter(), 10, CancellationToken.None);
        Assert.That(Shown(totals.Model), Is.EqualTo(new[] { "flux:1", "sdxl:1" }), "b.png's old model is no longer counted");
        Assert.That(Shown(totals.Sampler), Is.EqualTo(new[] { "Euler:1", "Euler a:1" }));
        Assert.That(Shown(totals.Lora), Is.EqualTo(new[] { "style:2", "detail:1" }));
        Assert.That(Shown(totals.Size), Is.EqualTo(new[] { "1024x1024:1", "512x512:1", "768x768:1" }));

        // The same through SQL's list of ids (a filter every file passes) and the in-memory count.
        var counted = await media.FacetsAsync(new MediaFilter { Width = new Range<int>(0, null) }, 10, CancellationToken.None);
        Assert.That((Shown(counted.Model), Shown(counted.Sampler), Shown(counted.Lora), Shown(counted.Size)),
            Is.EqualTo((Shown(totals.Model), Shown(totals.Sampler), Shown(totals.Lora), Shown(totals.Size))));
    }

    [Test]
    public async Task Filtering_in_memory_keeps_exactly_what_SQL_keeps()
    {
        await using var catalog = await TestCatalog.CreateAsync(backend);
        var database = catalog.Database;
        var media = new MediaCatalog(database, TimeProvider.System);
        var store = new SessionStore(database, media, new PerceptualIndex(database));
        var random = new Random(3);
        string? Pick(params string?[] values) => values[random.Next(values.Length)];
        for (var i = 0; i < 300; i++)
        {
            var record = new MediaRecord($"d/x{i}.png", 1, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000 + (i * 3600)), i % 7 == 0 ? "video" : "image",
                new string('a', 64), random.Next(3) == 0 ? null : Pick("512", "1024", "832") is { } w ? int.Parse(w) : null, random.Next(4) == 0 ? null : 1024,
                Prompt: Pick("a castle", "a forest", "a castle in a forest", null), Steps: random.Next(4) == 0 ? null : random.Next(10, 50),
                Sampler: Pick("Euler", "Euler a", null), CfgScale: random.Next(4) == 0 ? null : Math.Round(random.NextDouble() * 10, 1),
                Seed: random.Next(4) == 0 ? null : random.Next(100), Model: Pick("sdxl", "flux", null), Score: random.Next(3) == 0 ? null : Math.Round(random.NextDouble() * 5, 2),
                Scheduler: Pick("Karras", null), LoraWeights: [.. new[] { "detail", "style", "fox" }.Where(_ => random.Next(3) == 0).Select(l => new LoraUse(l, 1))]);
            await store.CommitFileAsync("s", i, record, new SessionFileResult(record.Path, FileStates.Committed, "commit", null, 1, 0), default, CancellationToken.None);
        }

        MediaFilter[] filters =
        [
            new() { Models = ["sdxl"] }, new() { Models = ["sdxl", "flux"], Samplers = ["Euler"] }, new() { Schedulers = ["Karras"], Kind = "image" },
            new() { Loras = ["detail", "style"] }, new() { Loras = ["detail", "style"], AllLoras = true }, new() { Loras = ["nobody"] },
            new() { Steps = new Range<int>(20, 30) }, new() { Cfg = new Range<double>(2.5, 6.1) }, new() { Seed = new Range<long>(42, 42) },
            new() { Width = new Range<int>(600, null), Height = new Range<int>(1024, 1024) }, new() { Score = new Range<double>(null, 2.5) },
            new() { Kind = "video" }, new() { Date = new Range<DateTimeOffset>(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000 + (50 * 3600)), DateTimeOffset.FromUnixTimeSeconds(1_700_000_000 + (120 * 3600))) },
            new() { Text = "castle", Models = ["flux"] }, new() { Text = "\"castle in\"", Steps = new Range<int>(null, 40) }, new() { Text = "forest" },
        ];
        foreach (var filter in filters)
        {
            foreach (var sort in new[] { MediaSort.Date, MediaSort.Score })
            {
                // The same filter with a folder every file is in goes to SQL whole.
                var inMemory = (await media.SearchAsync(filter, sort, 1000, 0, CancellationToken.None)).Select(h => h.Path).ToList();
                var bySql = (await media.SearchAsync(filter with { Folder = "d" }, sort, 1000, 0, CancellationToken.None)).Select(h => h.Path).ToList();
                Assert.That(inMemory, Is.EqualTo(bySql), $"{sort}: {filter}");
                Assert.That(bySql.Count > 0 || filter.Loras.Contains("nobody"), Is.True, $"a filter that keeps something: {filter}");
            }

            var facets = await media.FacetsAsync(filter, 10, CancellationToken.None);
            var sqlFacets = await media.FacetsAsync(filter with { Folder = "d" }, 10, CancellationToken.None);
            Assert.That(Shown(facets.Model).Concat(Shown(facets.Lora)).Concat(Shown(facets.Size)),
                Is.EqualTo(Shown(sqlFacets.Model).Concat(Shown(sqlFacets.Lora)).Concat(Shown(sqlFacets.Size))), $"facets: {filter}");
        }
    }

    [Test]
    public async Task A_page_that_stops_early_is_the_page_a_full_sort_gives()
    {
        // 9,000 files over three blocks of ids; file dates mostly follow the ids, with jitter, and some far off both
        // ways; then some files are committed again with new dates and scores (a bound may only grow).
        await using var catalog = await TestCatalog.CreateAsync(backend);
        var database = catalog.Database;
        var media = new MediaCatalog(database, TimeProvider.System);
        var store = new SessionStore(database, media, new PerceptualIndex(database));
        var random = new Random(11);
        MediaRecord Record(int i, long seconds) => new($"d/x{i}.png", 1, DateTimeOffset.FromUnixTimeSeconds(seconds), "image", new string('b', 64), 512, 512,
            Prompt: random.Next(3) == 0 ? "a castle" : "a forest", Model: random.Next(4) == 0 ? "flux" : "sdxl",
            Score: random.Next(5) == 0 ? null : random.Next(6), LoraWeights: random.Next(8) == 0 ? [new LoraUse("detail", 1)] : []);
        async Task CommitAsync(int i, long seconds)
        {
            var record = Record(i, seconds);
            await store.CommitFileAsync("s", i, record, new SessionFileResult(record.Path, FileStates.Committed, "commit", null, 1, 0), default, CancellationToken.None);
        }

        for (var i = 0; i < 9000; i++)
        {
            var seconds = 1_700_000_000L + (i * 60) + random.Next(-3600, 3600);
            await CommitAsync(i, random.Next(200) == 0 ? seconds + (random.Next(-2, 3) * 86_400 * 30) : seconds);
        }

        foreach (var i in Enumerable.Range(0, 60).Select(_ => random.Next(9000)))
        {
            await CommitAsync(i, 1_700_000_000L + random.Next(0, 9000 * 60));
        }

        MediaFilter[] filters = [new() { Text = "castle" }, new() { Models = ["flux"] }, new() { Text = "forest", Loras = ["detail"] }, new() { Score = new Range<double>(1, 4) }, new() { Text = "nothing-matches" }];
        foreach (var filter in filters)
        {
            foreach (var sort in new[] { MediaSort.Date, MediaSort.Score })
            {
                foreach (var (limit, offset) in new[] { (7, 0), (20, 40), (1, 500) })
                {
                    var early = (await media.SearchAsync(filter, sort, limit, offset, CancellationToken.None)).Select(h => h.Path).ToList();
                    var bySql = (await media.SearchAsync(filter with { Folder = "d" }, sort, limit, offset, CancellationToken.None)).Select(h => h.Path).ToList();
                    Assert.That(early, Is.EqualTo(bySql), $"{sort}, limit {limit}, offset {offset}: {filter}");
                    Assert.That(bySql, Has.Count.EqualTo(filter.Text == "nothing-matches" ? 0 : limit), $"a full page: {filter}");
                }
            }
        }
    }
}
