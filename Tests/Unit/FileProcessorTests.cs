using System.Diagnostics;
using IngestLite.Catalog;
using IngestLite.Jobs;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IngestLite.Tests.Unit;

/// <summary>The per-file stages on real files, with every published snapshot recorded.</summary>
public sealed class FileProcessorTests
{
    private TempDirectory _root = null!;
    private RecordingRegistry _registry = null!;
    private SessionProgress _progress = null!;
    private FileProcessor _processor = null!;
    private ThumbnailStore _thumbnails = null!;

    [SetUp]
    public void SetUp()
    {
        _root = new TempDirectory();
        var options = new IngestOptions { MediaRoot = Path.Combine(_root.FullPath, "media"), LargeFileBytes = 64 * 1024, ThumbnailPath = Path.Combine(_root.FullPath, "thumbnails") };
        var root = new MediaRoot(Options.Create(options));
        _thumbnails = new ThumbnailStore(Options.Create(options), root);
        _registry = new RecordingRegistry();
        var start = new ProgressSnapshot("s", SessionStatus.Processing, 0, 1, null, null, 0, DateTimeOffset.UtcNow, null, SessionStats.Empty, [], [], 0, DateTimeOffset.UtcNow, 0, null);
        _progress = new SessionProgress(start, _registry, TimeProvider.System);
        _processor = new FileProcessor(root, _thumbnails, new FixedMonitor(options), TimeProvider.System, NullLogger<FileProcessor>.Instance);
    }

    [TearDown]
    public void TearDown() => _root.Dispose();

    private string Media(string name) => Path.Combine(_root.FullPath, "media", name);

    private Task<FileOutcome> ProcessAsync(string name) =>
        _processor.ProcessAsync(new DiscoveredFile(name, 0, DateTimeOffset.UnixEpoch), new IngestParameters(), _progress, CancellationToken.None);

    [Test]
    public async Task A_large_file_reports_its_hashing_progress_in_bytes()
    {
        MediaFactory.WritePng(Media("big.png"), 16, 16, [("comment", new string('x', 2_000_000))], seed: 1);
        var outcome = await ProcessAsync("big.png");

        Assert.That(outcome.Result.State, Is.EqualTo(FileStates.Committed));
        var hashing = _registry.Published.Where(s => s.CurrentStage == "hash" && s.CurrentFileBytes > 0).ToList();
        Assert.That(hashing, Has.Count.GreaterThan(2), "a large file reports bytes while it hashes");
        Assert.That(hashing.Select(s => s.CurrentFileBytes), Is.Ordered.Ascending);
        Assert.That(hashing.All(s => s.CurrentFileBytes <= s.CurrentFileSize), Is.True);
    }

    [Test]
    public async Task A_valid_png_goes_through_every_stage_and_is_committed()
    {
        MediaFactory.WritePng(Media("ok.png"), 32, 32, [("parameters", MediaFactory.A1111Parameters("a, b"))], seed: 2);
        var outcome = await ProcessAsync("ok.png");

        Assert.That(outcome.Result.State, Is.EqualTo(FileStates.Committed), outcome.Result.Reason);
        Assert.That(_registry.Published.Select(s => s.CurrentStage).Distinct(), Is.SupersetOf(new[] { "stat", "hash", "metadata", "keywords", "score", "phash", "thumbnail", "commit" }));
        Assert.That(outcome.Media!.Width, Is.EqualTo(32));
        Assert.That(outcome.Media.PerceptualHash, Is.Not.Null);
    }

    [Test]
    public async Task A_thumbnail_is_made_once_per_content_as_a_WebP_of_at_most_320_pixels()
    {
        MediaFactory.WritePng(Media("wide.png"), 1024, 512, null, seed: 3);
        File.Copy(Media("wide.png"), Media("copy.png"));
        var first = await ProcessAsync("wide.png");
        var path = _thumbnails.PathOf(first.Media!.Sha256);
        Assert.That(File.Exists(path), Is.True);
        var written = File.GetLastWriteTimeUtc(path);
        using (var image = SkiaSharp.SKBitmap.Decode(path))
        {
            Assert.That((image.Width, image.Height), Is.EqualTo((320, 160)), "longest side 320, aspect kept");
        }

        Assert.That(File.ReadAllBytes(path)[8..12], Is.EqualTo("WEBP"u8.ToArray()));
        _registry.Published.Clear();
        var second = await ProcessAsync("copy.png");
        Assert.That(second.Media!.Sha256, Is.EqualTo(first.Media.Sha256));
        Assert.That(_registry.Published.Select(s => s.CurrentStage), Does.Not.Contain("thumbnail"), "the same content has its thumbnail already");
        Assert.That(File.GetLastWriteTimeUtc(path), Is.EqualTo(written));
    }

    [Test]
    public async Task Corrupt_content_fails_the_file()
    {
        MediaFactory.WriteCorruptPng(Media("corrupt.png"));
        var outcome = await ProcessAsync("corrupt.png");
        Assert.That(outcome.Result.State, Is.EqualTo(FileStates.Failed));
        Assert.That(outcome.Error!.Message, Does.Contain("not a decodable image"));
    }

    [Test]
    public async Task Text_renamed_to_png_fails_at_stat()
    {
        File.WriteAllText(Media("text.png"), "hello, not an image");
        var outcome = await ProcessAsync("text.png");
        Assert.That(outcome.Error?.Stage, Is.EqualTo("stat"));
        Assert.That(outcome.Error!.Message, Does.Contain("not a recognised image or video"));
    }

    [Test]
    public async Task A_truncated_jpeg_is_committed_with_a_warning()
    {
        MediaFactory.WriteTruncatedJpeg(Media("half.jpg"), seed: 3);
        var outcome = await ProcessAsync("half.jpg");
        Assert.That(outcome.Result.State, Is.EqualTo(FileStates.CommittedWithWarnings), outcome.Result.Reason);
        Assert.That(outcome.Result.Reason, Does.Contain("phash"));
    }

    [Test]
    public async Task Zero_bytes_fail_at_stat()
    {
        MediaFactory.WriteZeroByte(Media("zero.png"));
        var outcome = await ProcessAsync("zero.png");
        Assert.That(outcome.Error?.Stage, Is.EqualTo("stat"));
    }

    [Test]
    public async Task A_fifo_fails_at_stat_without_blocking()
    {
        using (var mkfifo = Process.Start("mkfifo", [Media("pipe.png")]))
        {
            await mkfifo!.WaitForExitAsync();
        }

        var outcome = await ProcessAsync("pipe.png").WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(outcome.Error?.Stage, Is.EqualTo("stat"));
        Assert.That(outcome.Error!.Message, Does.Contain("not a regular file"));
    }

    [Test]
    public async Task A_symlink_out_of_the_root_fails_and_is_never_read()
    {
        var outside = Path.Combine(_root.FullPath, "outside.png");
        MediaFactory.WritePng(outside, 8, 8, seed: 4);
        File.CreateSymbolicLink(Media("link.png"), outside);
        var outcome = await ProcessAsync("link.png");
        Assert.That(outcome.Error?.Message, Does.Contain("outside the media root"));
        Assert.That(_registry.Published.Any(s => s.CurrentStage == "hash"), Is.False, "the target was never opened");
    }

    [Test]
    public async Task A_deleted_file_fails_with_a_clear_reason()
    {
        var outcome = await ProcessAsync("gone.png");
        Assert.That(outcome.Error?.Message, Is.EqualTo("file no longer exists"));
    }

    private sealed class FixedMonitor(IngestOptions value) : IOptionsMonitor<IngestOptions>
    {
        public IngestOptions CurrentValue => value;

        public IngestOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<IngestOptions, string?> listener) => null;
    }

    /// <summary>Keeps every snapshot published, so tests can see what a fast reader could have seen.</summary>
    private sealed class RecordingRegistry : IProgressRegistry
    {
        public List<ProgressSnapshot> Published { get; } = [];

        public long Version => Published.Count;
        public long Milestones => 0;

        public int SubscriberCount => 0;

        public void Publish(ProgressSnapshot snapshot)
        {
            lock (Published)
            {
                Published.Add(snapshot);
            }
        }

        public ProgressUpdate? Get(string sessionId) => null;

        public IReadOnlyList<ProgressUpdate> All() => [];

        public bool Remove(string sessionId) => false;

        public bool Forget(string sessionId) => false;

        public bool IsDeleted(string sessionId) => false;

        public ISessionSubscription? Subscribe(string sessionId) => null;

        public IRegistrySubscription SubscribeAll() => throw new NotSupportedException();
    }
}
