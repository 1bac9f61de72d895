using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using IngestLite.Jobs;
using IngestLite.Jobs.Stages;
using IngestLite.Tests.Support;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Png;
using MetadataExtractor.Formats.QuickTime;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace IngestLite.Tests.Unit;

public sealed class MediaFactoryTests
{
    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void Crc32_matches_the_standard_check_value()
    {
        Assert.That(Crc32.Compute("123456789"u8), Is.EqualTo(0xCBF43926u));
    }

    [Test]
    public void A1111Parameters_uses_the_a1111_layout()
    {
        var text = MediaFactory.A1111Parameters("a fox", "blurry", 20, "Euler a", 7, 12345, "sdxl_base");

        Assert.That(text, Is.EqualTo("a fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 12345, Size: 512x512, Model: sdxl_base"));
        Assert.That(MediaFactory.A1111Parameters("a fox", cfg: 6.5), Does.Contain("CFG scale: 6.5,"));
    }

    [Test]
    public void ComfyPrompt_puts_the_positive_text_in_the_first_text_node()
    {
        using var graph = JsonDocument.Parse(MediaFactory.ComfyPrompt("a \"quoted\" whale"));

        var firstText = graph.RootElement.EnumerateObject()
            .First(node => node.Value.GetProperty("inputs").TryGetProperty("text", out _));
        Assert.That(firstText.Value.GetProperty("class_type").GetString(), Is.EqualTo("CLIPTextEncode"));
        Assert.That(firstText.Value.GetProperty("inputs").GetProperty("text").GetString(), Is.EqualTo("a \"quoted\" whale"));
        Assert.That(graph.RootElement.GetProperty("3").GetProperty("class_type").GetString(), Is.EqualTo("KSampler"));
    }

    [Test]
    public void ComfyWorkflow_is_a_json_object_with_nodes()
    {
        using var workflow = JsonDocument.Parse(MediaFactory.ComfyWorkflow());

        Assert.That(workflow.RootElement.GetProperty("nodes").GetArrayLength(), Is.GreaterThan(0));
    }

    [Test]
    public void WritePng_inserts_text_chunks_after_ihdr_with_valid_crcs()
    {
        var path = _temp.Combine("text.png");
        MediaFactory.WritePng(path, 30, 20, [("parameters", "first"), ("prompt", "second")], seed: 3);

        var chunks = ReadChunks(File.ReadAllBytes(path));

        Assert.That(chunks.Select(c => c.Type).Take(3), Is.EqualTo(new[] { "IHDR", "tEXt", "tEXt" }));
        Assert.That(chunks[^1].Type, Is.EqualTo("IEND"));
        Assert.That(chunks, Has.All.Matches<Chunk>(c => c.CrcValid), "every chunk's CRC must be valid");
        Assert.That(Encoding.Latin1.GetString(chunks[1].Data), Is.EqualTo("parameters\0first"));
        Assert.That(Decode(path), Is.EqualTo((30, 20)));
    }

    [Test]
    public void WritePng_refuses_text_that_latin1_cannot_hold()
    {
        Assert.That(() => MediaFactory.WritePng(_temp.Combine("x.png"), 4, 4, [("parameters", "猫")]), Throws.ArgumentException);
    }

    [Test]
    public void Png_text_reads_back_through_metadata_extractor()
    {
        var path = _temp.Combine("latin1.png");
        MediaFactory.WritePng(path, 8, 8, [("parameters", "café")]);

        var pair = TextPairs(path).Single();

        Assert.That(pair.Key, Is.EqualTo("parameters"));
        Assert.That(pair.Value.Bytes, Is.EqualTo(Encoding.Latin1.GetBytes("café")));
        Assert.That(pair.Value.ToString(), Is.EqualTo("café"), "tEXt values carry the Latin-1 encoding");
    }

    [Test]
    public void Png_itxt_reads_back_as_utf8_bytes()
    {
        var path = _temp.Combine("itxt.png");
        MediaFactory.WritePngWithITxt(path, 8, 8, [("parameters", "猫, 桜")]);

        var pair = TextPairs(path).Single();

        Assert.That(ReadChunks(File.ReadAllBytes(path))[1].Type, Is.EqualTo("iTXt"));
        Assert.That(Encoding.UTF8.GetString(pair.Value.Bytes), Is.EqualTo("猫, 桜"));
    }

    [Test]
    public void Metadata_extractor_cuts_png_text_at_a_nul()
    {
        // Documents MetadataExtractor 2.4.3: both tEXt and iTXt values are NUL-terminated strings.
        var text = _temp.Combine("nul-text.png");
        var international = _temp.Combine("nul-itxt.png");
        MediaFactory.WritePng(text, 8, 8, [("parameters", "cat\0 sitting, window")]);
        MediaFactory.WritePngWithITxt(international, 8, 8, [("parameters", "cat\0 sitting, window")]);

        Assert.That(Encoding.Latin1.GetString(TextPairs(text).Single().Value.Bytes), Is.EqualTo("cat"));
        Assert.That(Encoding.UTF8.GetString(TextPairs(international).Single().Value.Bytes), Is.EqualTo("cat"));
    }

    [Test]
    public void WriteJpeg_exif_date_reads_back_through_metadata_extractor()
    {
        var path = _temp.Combine("exif.jpg");
        MediaFactory.WriteJpeg(path, 50, 40, new DateTime(2021, 6, 15, 10, 30, 0));

        var exif = ImageMetadataReader.ReadMetadata(path).OfType<ExifSubIfdDirectory>().Single();

        Assert.That(exif.TryGetDateTime(ExifDirectoryBase.TagDateTimeOriginal, out var taken), Is.True);
        Assert.That(taken, Is.EqualTo(new DateTime(2021, 6, 15, 10, 30, 0)));
        Assert.That(Decode(path), Is.EqualTo((50, 40)));
    }

    [Test]
    public void WriteJpeg_without_a_date_has_no_exif()
    {
        var path = _temp.Combine("plain.jpg");
        MediaFactory.WriteJpeg(path, 50, 40, null);

        Assert.That(ImageMetadataReader.ReadMetadata(path).OfType<ExifSubIfdDirectory>(), Is.Empty);
        Assert.That(Decode(path), Is.EqualTo((50, 40)));
    }

    [Test]
    public void WriteMp4_reads_back_through_metadata_extractor()
    {
        var path = _temp.Combine("clip.mp4");
        MediaFactory.WriteMp4(path, 12.5, 640, 360);

        var directories = ImageMetadataReader.ReadMetadata(path);
        var movie = directories.OfType<QuickTimeMovieHeaderDirectory>().Single();
        var track = directories.OfType<QuickTimeTrackHeaderDirectory>().Single();

        // MetadataExtractor 2.4.3 hands the duration over as a TimeSpan, already divided by the timescale.
        Assert.That(movie.GetObject(QuickTimeMovieHeaderDirectory.TagDuration), Is.EqualTo(TimeSpan.FromSeconds(12.5)));
        Assert.That(track.GetDouble(QuickTimeTrackHeaderDirectory.TagWidth), Is.EqualTo(640));
        Assert.That(track.GetDouble(QuickTimeTrackHeaderDirectory.TagHeight), Is.EqualTo(360));
    }

    [Test]
    public void Seeds_give_different_perceptual_hashes()
    {
        var hashes = Enumerable.Range(0, 12).Select(seed =>
        {
            var path = _temp.Combine($"seed{seed}.png");
            MediaFactory.WritePng(path, 64, 64, seed: (byte)seed);
            return PerceptualHash.Compute(path);
        }).ToList();

        Assert.That(hashes, Has.None.Null);
        Assert.That(hashes, Is.Unique);
    }

    [Test]
    public void Broken_files_are_broken_in_the_intended_way()
    {
        var corrupt = _temp.Combine("corrupt.png");
        var truncated = _temp.Combine("truncated.jpg");
        var zero = _temp.Combine("zero.png");
        MediaFactory.WriteCorruptPng(corrupt);
        MediaFactory.WriteTruncatedJpeg(truncated);
        MediaFactory.WriteZeroByte(zero);

        Assert.That(File.ReadAllBytes(corrupt)[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
        using (var codec = SKCodec.Create(corrupt))
        {
            Assert.That(codec, Is.Null, "a corrupt PNG must not decode");
        }

        Assert.That(DecodeResult(truncated), Is.EqualTo(SKCodecResult.IncompleteInput));
        Assert.That(new FileInfo(zero).Length, Is.Zero);
    }

    [Test]
    public void Standard_corpus_has_every_file_it_claims()
    {
        var corpus = BuildCorpus();

        Assert.Multiple(() =>
        {
            foreach (var relative in corpus.Discoverable.Append(StandardCorpus.Notes))
            {
                Assert.That(File.Exists(corpus.FullPath(relative)), Is.True, relative);
            }

            Assert.That(new FileInfo(corpus.FullPath(StandardCorpus.Zero)).Length, Is.Zero);
            Assert.That(corpus.ExpectedDiscovered, Is.EqualTo(14));
            Assert.That(corpus.ExpectedCommitted, Is.EqualTo(11));
            Assert.That(corpus.ExpectedScoresImported, Is.EqualTo(2));
        });
    }

    [Test]
    public void Standard_corpus_sidecars_sit_in_the_hidden_scores_folder()
    {
        var corpus = BuildCorpus();

        Assert.That(File.ReadAllText(ScoreSidecar.PathFor(corpus.FullPath(StandardCorpus.A1111))), Is.EqualTo("""{"score": 4.5}"""));
        Assert.That(File.ReadAllText(ScoreSidecar.PathFor(corpus.FullPath(StandardCorpus.BadScore))), Is.EqualTo("{not json"));
        Assert.That(File.ReadAllText(ScoreSidecar.PathFor(corpus.FullPath(StandardCorpus.BigScore))), Is.EqualTo("""{"score": 99}"""));
        Assert.That(Path.GetDirectoryName(ScoreSidecar.PathFor(corpus.FullPath(StandardCorpus.A1111))), Is.EqualTo(corpus.FullPath("photos/.scores")));
    }

    [Test]
    public void Standard_corpus_symlinks_point_outside_the_root()
    {
        var corpus = BuildCorpus();
        var escape = new FileInfo(corpus.FullPath(StandardCorpus.Escape));
        var outsideDir = new DirectoryInfo(corpus.FullPath(StandardCorpus.OutsideDir));

        Assert.That(escape.LinkTarget, Is.EqualTo(corpus.EscapeTarget));
        Assert.That(outsideDir.LinkTarget, Is.EqualTo(corpus.OutsideDirectory));
        Assert.That(IsInside(corpus.Root, corpus.EscapeTarget), Is.False);
        Assert.That(IsInside(corpus.Root, corpus.OutsideDirectory), Is.False);
        Assert.That(File.Exists(corpus.EscapeTarget), Is.True);
        Assert.That(System.IO.Directory.GetFiles(corpus.OutsideDirectory, "*.png"), Has.Length.EqualTo(1));
        Assert.That(IsInside(corpus.OutsideFolder, corpus.EscapeTarget) && IsInside(corpus.OutsideFolder, corpus.OutsideDirectory), Is.True);
    }

    [Test]
    public void Standard_corpus_media_reads_as_described()
    {
        var corpus = BuildCorpus();

        Assert.That(MediaMetadataReader.Read(corpus.FullPath(StandardCorpus.A1111)).Generation?.Prompt, Is.EqualTo(StandardCorpus.A1111Prompt));
        Assert.That(MediaMetadataReader.Read(corpus.FullPath(StandardCorpus.Comfy)).PositivePrompt, Is.EqualTo(StandardCorpus.ComfyPositive));
        Assert.That(MediaMetadataReader.Read(corpus.FullPath(StandardCorpus.ExifJpeg)).TakenAt?.UtcDateTime, Is.EqualTo(StandardCorpus.ExifTakenAt));
        Assert.That(MediaMetadataReader.Read(corpus.FullPath(StandardCorpus.UpperJpeg)).TakenAt, Is.Null);
        Assert.That(MediaMetadataReader.Read(corpus.FullPath(StandardCorpus.Clip)).DurationSeconds, Is.EqualTo(StandardCorpus.ClipSeconds).Within(0.001));
    }

    [Test]
    public void Standard_corpus_images_have_distinct_perceptual_hashes()
    {
        var corpus = BuildCorpus();
        string[] images = [StandardCorpus.A1111, StandardCorpus.Comfy, StandardCorpus.NulPrompt, StandardCorpus.ExifJpeg, StandardCorpus.UpperJpeg,
            StandardCorpus.Inner, StandardCorpus.BadScore, StandardCorpus.BigScore, StandardCorpus.Good];

        var hashes = images.Select(relative => PerceptualHash.Compute(corpus.FullPath(relative))).ToList();

        Assert.That(hashes, Has.None.Null);
        Assert.That(hashes, Is.Unique);
    }

    [Test]
    public void Standard_corpus_expectations_match_file_discovery()
    {
        var corpus = BuildCorpus();
        var root = new MediaRoot(Options.Create(new IngestOptions { MediaRoot = corpus.Root }));
        Assert.That(FilePattern.TryParse(null, out var pattern, out _), Is.True);

        var result = FileDiscovery.Discover(root, [root.FullPath], pattern, recursive: true, maxFiles: null, FileDiscovery.NothingKnown, CancellationToken.None);

        Assert.That(result.Files.Select(f => f.Path), Is.EqualTo(corpus.Discoverable));
        Assert.That(result.Skipped, Is.Empty);
        Assert.That(result.Problems, Is.Empty);
    }

    [Test]
    public void Standard_corpus_can_put_its_link_targets_in_a_chosen_folder()
    {
        var outside = _temp.Combine("elsewhere", "targets");

        var corpus = MediaFactory.BuildStandardCorpus(_temp.Combine("media"), outside);

        Assert.That(corpus.OutsideFolder, Is.EqualTo(outside));
        Assert.That(new FileInfo(corpus.FullPath(StandardCorpus.Escape)).LinkTarget, Does.StartWith(outside + "/"));
        Assert.That(File.Exists(corpus.EscapeTarget), Is.True);
    }

    [Test]
    public void Standard_corpus_delete_removes_both_folders_but_not_link_targets_elsewhere()
    {
        var corpus = BuildCorpus();

        corpus.Delete();

        Assert.That(System.IO.Directory.Exists(corpus.Root), Is.False);
        Assert.That(System.IO.Directory.Exists(corpus.OutsideFolder), Is.False);
        Assert.That(System.IO.Directory.Exists(_temp.FullPath), Is.True);
    }

    private StandardCorpus BuildCorpus() => MediaFactory.BuildStandardCorpus(_temp.Combine("media"));

    private static bool IsInside(string folder, string path) => path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);

    private static List<MetadataExtractor.KeyValuePair> TextPairs(string path) =>
        [.. ImageMetadataReader.ReadMetadata(path).OfType<PngDirectory>()
            .Select(d => d.GetObject(PngDirectory.TagTextualData)).OfType<IEnumerable<MetadataExtractor.KeyValuePair>>().SelectMany(p => p)];

    private static (int Width, int Height) Decode(string path)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new AssertionException($"{path} does not decode");
        return (bitmap.Width, bitmap.Height);
    }

    private static SKCodecResult DecodeResult(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new AssertionException($"{path} has no codec");
        using var bitmap = new SKBitmap(codec.Info);
        return codec.GetPixels(codec.Info, bitmap.GetPixels());
    }

    private sealed record Chunk(string Type, byte[] Data, bool CrcValid);

    private static List<Chunk> ReadChunks(byte[] png)
    {
        var chunks = new List<Chunk>();
        for (var offset = 8; offset + 12 <= png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var typeAndData = png.AsSpan(offset + 4, 4 + length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            chunks.Add(new Chunk(Encoding.ASCII.GetString(typeAndData[..4]), typeAndData[4..].ToArray(), crc == Crc32.Compute(typeAndData)));
            offset += 12 + length;
        }

        return chunks;
    }
}
