using IngestLite.Catalog;
using IngestLite.Jobs;
using IngestLite.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace IngestLite.Tests.Unit;

/// <summary>
/// A session's files stream from the disk into the catalog and from the catalog to the job, never all in memory:
/// discovery yields each file as it finds it, and the pending files are read back a page at a time, in order.
/// </summary>
[TestFixture(CatalogBackend.Sqlite)]
[TestFixture(CatalogBackend.PostgreSql)]
public sealed class StreamedDiscoveryTests(CatalogBackend backend)
{
    [Test]
    public void Discovery_yields_each_file_as_it_finds_it_without_walking_the_tree_first()
    {
        using var temp = new TempDirectory();
        var root = new MediaRoot(Microsoft.Extensions.Options.Options.Create(new IngestOptions { MediaRoot = temp.FullPath }));
        Directory.CreateDirectory(temp.Combine("a"));
        Directory.CreateDirectory(temp.Combine("b"));
        File.WriteAllBytes(temp.Combine("a", "1.png"), [1]);
        FilePattern.TryParse("*.png", out var pattern, out _);

        using var items = FileDiscovery.Enumerate(root, [temp.FullPath], pattern, recursive: true, maxFiles: null, FileDiscovery.NothingKnown, CancellationToken.None).GetEnumerator();
        Assert.That(items.MoveNext(), Is.True);
        Assert.That(items.Current.File.Path, Is.EqualTo("a/1.png"));

        // Written after the first file was handed out: a walk that had listed everything up front would not see it.
        File.WriteAllBytes(temp.Combine("b", "2.png"), [2]);
        Assert.That(items.MoveNext(), Is.True);
        Assert.That(items.Current.File.Path, Is.EqualTo("b/2.png"));
        Assert.That(items.MoveNext(), Is.False);
    }

    [Test]
    public async Task Known_files_are_asked_about_a_folder_at_a_time_and_only_those_catalogued_unchanged_are_known()
    {
        await using var catalog = await TestCatalog.CreateAsync(backend);
        var media = new MediaCatalog(catalog.Database, new FakeTimeProvider());
        var store = new SessionStore(catalog.Database, media, new PerceptualIndex(catalog.Database));
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        const int Files = 1_100;
        for (var i = 0; i < Files; i++)
        {
            var record = new MediaRecord($"d/f{i:D4}.png", 100 + i, at.AddSeconds(i), "image", new string('a', 64));
            await store.CommitFileAsync("s", i + 1, record, new SessionFileResult(record.Path, FileStates.Committed, "commit", null, 1, 0), default, CancellationToken.None);
        }

        // More than two queries' worth: every 3rd grew, every 5th was touched, and some were never catalogued.
        var asked = Enumerable.Range(0, Files)
            .Select(i => new DiscoveredFile($"d/f{i:D4}.png", 100 + i + (i % 3 == 0 ? 1 : 0), at.AddSeconds(i).AddMilliseconds(i % 5 == 0 ? 1 : 0)))
            .Concat(Enumerable.Range(0, 50).Select(i => new DiscoveredFile($"d/new{i}.png", 1, at)))
            .ToList();
        using var known = media.OpenKnownFiles();
        var unchanged = known.Unchanged(asked);

        var expected = Enumerable.Range(0, Files).Where(i => i % 3 != 0 && i % 5 != 0).Select(i => $"d/f{i:D4}.png");
        Assert.That(unchanged, Is.EquivalentTo(expected));
    }

    [Test]
    public async Task Pending_files_come_back_in_discovery_order_a_page_at_a_time_across_chunks_and_pages()
    {
        await using var catalog = await TestCatalog.CreateAsync(backend);
        var store = new SessionStore(catalog.Database, new MediaCatalog(catalog.Database, new FakeTimeProvider()), new PerceptualIndex(catalog.Database));

        // Three chunks, 10,001 files in all, every 7th skipped and every 1,000th a folder that could not be listed.
        var place = default(DiscoveredPlace);
        var expected = new List<string>();
        for (var chunk = 0; chunk < 3; chunk++)
        {
            var items = new List<DiscoveryItem>();
            for (var i = chunk * 3334; i < Math.Min((chunk + 1) * 3334, 10_001); i++)
            {
                var file = new DiscoveredFile($"d/f{i:D5}.png", i, DateTimeOffset.UnixEpoch.AddSeconds(i));
                var kind = i % 1000 == 999 ? DiscoveryKind.Problem : i % 7 == 0 ? DiscoveryKind.Skipped : DiscoveryKind.Pending;
                items.Add(new DiscoveryItem(kind, file, kind == DiscoveryKind.Problem ? "cannot list folder: permission denied" : null));
                if (kind == DiscoveryKind.Pending)
                {
                    expected.Add(file.Path);
                }
            }

            place = await store.AddDiscoveredAsync("s", items, place, CancellationToken.None);
        }

        Assert.That(place.Ord, Is.EqualTo(10_001));
        var pending = new List<(long Ord, DiscoveredFile File)>();
        await foreach (var file in store.StreamPendingFilesAsync("s", CancellationToken.None))
        {
            pending.Add(file);
        }

        Assert.That(expected, Has.Count.GreaterThan(8192), "more than two pages");
        Assert.That(pending.Select(p => p.File.Path), Is.EqualTo(expected));
        Assert.That(pending.Select(p => p.Ord), Is.Ordered.And.Unique);
        var totals = await store.SummarizeFileResultsAsync("s", CancellationToken.None);
        Assert.That(totals.FailedAtDiscovery, Is.EqualTo(10));
    }
}
