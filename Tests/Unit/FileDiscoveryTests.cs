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
}
