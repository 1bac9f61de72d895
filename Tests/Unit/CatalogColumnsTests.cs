using IngestLite.Catalog;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Unit;

/// <summary>The in-memory facet counts: loaded from the catalog, kept current by commits, replacing a file's old values.</summary>
public sealed class CatalogColumnsTests
{
    private static MediaRecord Image(string path, string? model, string? sampler, int width, params string[] loras) =>
        new(path, 1, DateTimeOffset.UnixEpoch, "image", new string('a', 64), width, width, Model: model, Sampler: sampler,
            LoraWeights: [.. loras.Select(l => new LoraUse(l, 1))]);

    private static IEnumerable<string> Shown(IReadOnlyList<FacetValue> values) => values.Select(v => $"{v.Value}:{v.Count}");

    [Test]
    public async Task Totals_follow_every_commit_and_match_the_counts_under_a_filter_that_keeps_every_file()
    {
        using var temp = new TempDirectory();
        await using var database = new CatalogDatabase(temp.Combine("catalog.db"));
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
}
