using IngestLite.Catalog;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Unit;

/// <summary>Full-text search on each backend: the same words, prefixes, phrases and fields find the same files.</summary>
[TestFixture(CatalogBackend.Sqlite)]
[TestFixture(CatalogBackend.PostgreSql)]
public sealed class CatalogSearchTests(CatalogBackend backend)
{
    [Test]
    public async Task Words_prefixes_phrases_and_fields_find_the_same_files_on_either_backend()
    {
        await using var catalog = await TestCatalog.CreateAsync(backend);
        var media = new MediaCatalog(catalog.Database, TimeProvider.System);
        var store = new SessionStore(catalog.Database, media, new PerceptualIndex(catalog.Database));
        MediaRecord[] files =
        [
            new("art/castle.png", 1, DateTimeOffset.UnixEpoch, "image", new string('a', 64), Prompt: "a Castle at golden hour", NegativePrompt: "blurry, lowres"),
            new("art/forest.png", 1, DateTimeOffset.UnixEpoch, "image", new string('b', 64), Prompt: "castle ruins in a misty forest", Keywords: ["Crème-brûlée", "night"]),
            new("art/portrait-of-a-cat.png", 1, DateTimeOffset.UnixEpoch, "image", new string('c', 64), Prompt: "hour", NegativePrompt: "golden"),
        ];
        var ord = 0;
        foreach (var file in files)
        {
            await store.CommitFileAsync("s", ++ord, file, new SessionFileResult(file.Path, FileStates.Committed, "commit", null, 1, 0), default, CancellationToken.None);
        }

        async Task<string[]> FindAsync(string text) =>
            [.. (await media.SearchAsync(new MediaFilter { Text = text }, MediaSort.Name, 10, 0, CancellationToken.None)).Select(h => h.Path[4..]).Order()];

        Assert.That(await FindAsync("castle"), Is.EqualTo(new[] { "castle.png", "forest.png" }), "a word, any case");
        Assert.That(await FindAsync("gold*"), Is.EqualTo(new[] { "castle.png", "portrait-of-a-cat.png" }), "a prefix");
        Assert.That(await FindAsync("\"golden hour\""), Is.EqualTo(new[] { "castle.png" }), "a phrase");
        Assert.That(await FindAsync("\"hour golden\""), Is.Empty, "a phrase keeps its order, and never spans two fields");
        Assert.That(await FindAsync("castle ruins"), Is.EqualTo(new[] { "forest.png" }), "every word is required");
        Assert.That(await FindAsync("blurry"), Is.EqualTo(new[] { "castle.png" }), "the negative prompt");
        Assert.That(await FindAsync("cat"), Is.EqualTo(new[] { "portrait-of-a-cat.png" }), "the path, cut at punctuation");
        Assert.That(await FindAsync("creme brulee"), Is.EqualTo(new[] { "forest.png" }), "keywords, accents removed");
        Assert.That(await FindAsync("\"misty fo*\""), Is.EqualTo(new[] { "forest.png" }), "a phrase ending in a prefix");
        Assert.That(await FindAsync("castle OR NOT \" * ( -:"), Is.Empty, "operators and punctuation are plain text");
        Assert.That(await FindAsync("\" * ( -:"), Is.EqualTo(files.Select(f => f.Path[4..]).Order().ToArray()), "nothing to search for: every file");

        // A renamed file is found by its new path only.
        await media.MoveAsync("art/castle.png", "art/keep.png", CancellationToken.None);
        Assert.That(await FindAsync("keep"), Is.EqualTo(new[] { "keep.png" }));
        Assert.That(await FindAsync("castle"), Is.EqualTo(new[] { "forest.png", "keep.png" }), "its prompt still is");
    }
}
