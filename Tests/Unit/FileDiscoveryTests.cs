using IngestLite.Catalog;
using IngestLite.Jobs;
using IngestLite.Tests.Support;
using Microsoft.Extensions.Options;

namespace IngestLite.Tests.Unit;

public sealed class FileDiscoveryTests
{
    [Test]
    public void Symlink_loops_terminate_and_each_file_is_found_once()
    {
        using var temp = new TempDirectory();
        var media = temp.Combine("media");
        MediaFactory.WritePng(Path.Combine(media, "a", "one.png"), 8, 8, seed: 1);
        MediaFactory.WritePng(Path.Combine(media, "a", "b", "two.png"), 8, 8, seed: 2);
        Directory.CreateSymbolicLink(Path.Combine(media, "a", "b", "up"), Path.Combine(media, "a"));
        Directory.CreateSymbolicLink(Path.Combine(media, "a", "self"), Path.Combine(media, "a"));
        Directory.CreateSymbolicLink(Path.Combine(media, "a", "ping"), Path.Combine(media, "a", "pong"));
        Directory.CreateSymbolicLink(Path.Combine(media, "a", "pong"), Path.Combine(media, "a", "ping"));
        var root = new MediaRoot(Options.Create(new IngestOptions { MediaRoot = media }));
        FilePattern.TryParse(null, out var pattern, out _);

        var result = Task.Run(() => FileDiscovery.Discover(root, [Path.Combine(root.FullPath, "a")], pattern, recursive: true, null, FileDiscovery.NothingKnown, CancellationToken.None))
            .WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();

        Assert.That(result.Files.Select(f => f.Path), Is.EqualTo(new[] { "a/one.png", "a/b/two.png" }));
    }

    [Test]
    public void Hidden_folders_and_unmatched_files_are_skipped_and_order_is_stable()
    {
        using var temp = new TempDirectory();
        var media = temp.Combine("media");
        foreach (var name in new[] { "b.png", "a.JPG", "c.txt", ".hidden/x.png", "z/y.png", ".scores/a.JPG.json" })
        {
            var path = Path.Combine(media, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "x");
        }

        var root = new MediaRoot(Options.Create(new IngestOptions { MediaRoot = media }));
        FilePattern.TryParse(null, out var pattern, out _);
        var result = FileDiscovery.Discover(root, [root.FullPath], pattern, recursive: true, null, FileDiscovery.NothingKnown, CancellationToken.None);
        Assert.That(result.Files.Select(f => f.Path), Is.EqualTo(new[] { "a.JPG", "b.png", "z/y.png" }));

        var limited = FileDiscovery.Discover(root, [root.FullPath], pattern, recursive: true, 2, files => files.Select(f => f.Path).Where(p => p == "a.JPG").ToHashSet(), CancellationToken.None);
        Assert.That(limited.Skipped.Select(f => f.Path), Is.EqualTo(new[] { "a.JPG" }));
        Assert.That(limited.Files.Select(f => f.Path), Is.EqualTo(new[] { "b.png", "z/y.png" }), "max_files counts files to ingest, not skipped ones");
    }

    [Test]
    public void A_folders_files_are_asked_about_in_batches_in_order_and_a_small_max_files_asks_once()
    {
        using var temp = new TempDirectory();
        var media = temp.Combine("media");
        Directory.CreateDirectory(Path.Combine(media, "many"));
        for (var i = 0; i < 1_200; i++)
        {
            File.WriteAllBytes(Path.Combine(media, "many", $"f{i:D4}.png"), [1]);
        }

        var root = new MediaRoot(Options.Create(new IngestOptions { MediaRoot = media }));
        FilePattern.TryParse(null, out var pattern, out _);
        var asked = new List<int>();
        IReadOnlySet<string> EveryThird(IReadOnlyList<DiscoveredFile> files)
        {
            asked.Add(files.Count);
            return files.Select(f => f.Path).Where(p => int.Parse(p[6..10], System.Globalization.CultureInfo.InvariantCulture) % 3 == 0).ToHashSet();
        }

        var all = FileDiscovery.Enumerate(root, [root.FullPath], pattern, recursive: true, null, EveryThird, CancellationToken.None).ToList();
        Assert.That(asked, Is.EqualTo(new[] { 500, 500, 200 }), "a query's worth at a time, not one a file");
        Assert.That(all.Select(i => i.File.Path), Is.EqualTo(Enumerable.Range(0, 1_200).Select(i => $"many/f{i:D4}.png")), "in ordinal order across batches");
        Assert.That(all.Where(i => i.Kind == DiscoveryKind.Skipped).Select(i => i.File.Path), Is.EqualTo(Enumerable.Range(0, 400).Select(i => $"many/f{i * 3:D4}.png")));

        asked.Clear();
        var ten = FileDiscovery.Enumerate(root, [root.FullPath], pattern, recursive: true, 10, EveryThird, CancellationToken.None).ToList();
        Assert.That(asked, Is.EqualTo(new[] { 500 }), "ten files to ingest are in the first batch");
        Assert.That(ten.Count(i => i.Kind == DiscoveryKind.Pending), Is.EqualTo(10));
    }
}
