using System.Buffers.Binary;
using System.Text;
using IngestLite.Catalog;
using IngestLite.Jobs;
using IngestLite.Jobs.Stages;
using IngestLite.Jobs.Stages.Generation;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace IngestLite.Tests.Unit;

/// <summary>
/// Generation metadata read from real files: the EXIF UserComment A1111 writes into JPEG and WebP
/// (modules/images.py: piexif.dump of UserComment.dump(info, encoding="unicode"), i.e. "UNICODE\0" and
/// UTF-16BE in a big-endian TIFF), other encodings of it, and the fields reaching the MediaRecord.
/// </summary>
public sealed class GenerationFileTests
{
    private static readonly byte[] UnicodeHeader = "UNICODE\0"u8.ToArray();
    private static readonly byte[] AsciiHeader = "ASCII\0\0\0"u8.ToArray();

    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void UserComment_unicode_big_endian_as_piexif_writes_it()
    {
        Assert.That(ExifUserComment.Decode([.. UnicodeHeader, .. Encoding.BigEndianUnicode.GetBytes("猫 a cat\nSteps: 20")]), Is.EqualTo("猫 a cat\nSteps: 20"));
    }

    [Test]
    public void UserComment_unicode_little_endian_is_detected()
    {
        Assert.That(ExifUserComment.Decode([.. UnicodeHeader, .. Encoding.Unicode.GetBytes("a cat, Steps: 20")]), Is.EqualTo("a cat, Steps: 20"));
    }

    [Test]
    public void UserComment_unicode_with_byte_order_mark()
    {
        Assert.That(ExifUserComment.Decode([.. UnicodeHeader, 0xFF, 0xFE, .. Encoding.Unicode.GetBytes("ü")]), Is.EqualTo("ü"));
        Assert.That(ExifUserComment.Decode([.. UnicodeHeader, 0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes("ü")]), Is.EqualTo("ü"));
    }

    [Test]
    public void UserComment_ascii_header_holding_utf8_and_trailing_nuls()
    {
        Assert.That(ExifUserComment.Decode([.. AsciiHeader, .. Encoding.UTF8.GetBytes("café"), 0, 0]), Is.EqualTo("café"));
    }

    [Test]
    public void UserComment_without_header_is_utf8()
    {
        Assert.That(ExifUserComment.Decode(Encoding.UTF8.GetBytes("{\"prompt\": \"a\"}")), Is.EqualTo("{\"prompt\": \"a\"}"));
    }

    [TestCase(new byte[0])]
    [TestCase(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 })]
    [TestCase(new byte[] { 0x55, 0x4E, 0x49, 0x43, 0x4F, 0x44, 0x45, 0x00, 0, 0 })]
    public void Empty_user_comment_is_null(byte[] raw)
    {
        Assert.That(ExifUserComment.Decode(raw), Is.Null);
    }

    [Test]
    public void Jpeg_with_a1111_user_comment()
    {
        var path = _temp.Combine("a1111.jpg");
        WriteJpegWithUserComment(path, [.. UnicodeHeader, .. Encoding.BigEndianUnicode.GetBytes(GenerationA1111Tests.A1111Sdxl)], bigEndian: true);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.ExifUserComment, Is.EqualTo(GenerationA1111Tests.A1111Sdxl));
        Assert.That(metadata.Generation?.Source, Is.EqualTo(GenerationSources.A1111));
        Assert.That(metadata.Generation?.Seed, Is.EqualTo(2871923459L));
        Assert.That(metadata.PositivePrompt, Does.StartWith("masterpiece, best quality"));
        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((64, 48)), "the file's own size stays the file's");
    }

    [Test]
    public void Jpeg_little_endian_tiff_and_utf16le_comment()
    {
        var path = _temp.Combine("le.jpg");
        WriteJpegWithUserComment(path, [.. UnicodeHeader, .. Encoding.Unicode.GetBytes(GenerationA1111Tests.SdNext)], bigEndian: false);

        Assert.That(MediaMetadataReader.Read(path).Generation?.Version, Is.EqualTo("SD.Next 2a69a8a"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Webp_with_a1111_exif_chunk(bool withExifPreamble)
    {
        // Older Pillow wrote piexif's "Exif\0\0" preamble into the WebP EXIF chunk too; readers accept both.
        var path = _temp.Combine("a1111.webp");
        var tiff = ExifTiff([.. UnicodeHeader, .. Encoding.BigEndianUnicode.GetBytes(GenerationA1111Tests.ForgeFlux)], bigEndian: true);
        WriteWebpWithExif(path, withExifPreamble ? [.. "Exif\0\0"u8, .. tiff] : tiff);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.Generation?.Version, Is.EqualTo("Forge f2.0.1v1.10.1-previous-561-g82eb7566"));
        Assert.That(metadata.Generation?.Loras, Has.Count.EqualTo(3));
    }

    [Test]
    public void Jpeg_with_swarm_json_in_user_comment()
    {
        var path = _temp.Combine("swarm.jpg");
        WriteJpegWithUserComment(path, [.. AsciiHeader, .. Encoding.UTF8.GetBytes(GenerationJsonSourcesTests.SwarmJson)], bigEndian: false);

        Assert.That(MediaMetadataReader.Read(path).Generation?.Source, Is.EqualTo(GenerationSources.SwarmUI));
    }

    [Test]
    public void Jpeg_with_fooocus_json_and_no_header()
    {
        // Fooocus sets the UserComment through Pillow's Exif as a str: bare bytes, no character-code header.
        var path = _temp.Combine("fooocus.jpg");
        WriteJpegWithUserComment(path, Encoding.UTF8.GetBytes(GenerationJsonSourcesTests.FooocusJson), bigEndian: false);

        Assert.That(MediaMetadataReader.Read(path).Generation?.Prompt, Is.EqualTo("a fox in the snow"));
    }

    [Test]
    public void Camera_comment_is_not_generation_metadata()
    {
        var path = _temp.Combine("camera.jpg");
        WriteJpegWithUserComment(path, [.. AsciiHeader, .. "Holiday in Rome, day 3"u8], bigEndian: false);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.ExifUserComment, Is.EqualTo("Holiday in Rome, day 3"));
        Assert.That(metadata.Generation, Is.Null);
    }

    [Test]
    public void Png_collects_every_text_chunk()
    {
        var path = _temp.Combine("novelai.png");
        MediaFactory.WritePng(path, 16, 16, [
            ("Title", "NovelAI generated image"), ("Description", "1girl, white hair"), ("Software", "NovelAI"),
            ("Source", "Stable Diffusion XL C1E1DE52"), ("Comment", GenerationJsonSourcesTests.NovelAIComment)]);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.TextChunks!.Keys, Is.EquivalentTo(new[] { "Title", "Description", "Software", "Source", "Comment" }));
        Assert.That((metadata.Generation?.Source, metadata.PositivePrompt), Is.EqualTo((GenerationSources.NovelAI, "1girl, white hair")));
        Assert.That(metadata.ComfyPrompt, Is.Null);
    }

    [Test]
    public void Png_with_malformed_comfy_prompt_is_read_without_throwing()
    {
        var path = _temp.Combine("broken.png");
        MediaFactory.WritePng(path, 16, 16, [("prompt", "{\"3\": {\"class_type\": \"KSampler\", \"inputs\": {")]);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.Generation?.Warnings, Has.Some.Contains("not valid JSON"));
        Assert.That(metadata.ComfyPrompt, Does.StartWith("{\"3\""), "the raw text is kept for the catalog");
    }

    [Test]
    public async Task Comfy_lora_loaders_and_prompt_tags_reach_the_media_record()
    {
        var options = new IngestOptions { MediaRoot = _temp.Combine("media"), ThumbnailPath = _temp.Combine("thumbnails") };
        var root = new MediaRoot(Options.Create(options));
        var processor = new FileProcessor(root, new ThumbnailStore(Options.Create(options), root), new FixedMonitor(options), TimeProvider.System, NullLogger<FileProcessor>.Instance);
        var start = new ProgressSnapshot("s", SessionStatus.Processing, 0, 1, null, null, 0, DateTimeOffset.UtcNow, null, SessionStats.Empty, [], [], 0, DateTimeOffset.UtcNow, 0, null);
        var progress = new SessionProgress(start, new InProcessProgressRegistry(), TimeProvider.System);
        MediaFactory.WritePng(_temp.Combine("media/comfy.png"), 24, 24, [("prompt", GenerationComfyTests.HiresLoraPrompt)], seed: 3);

        var outcome = await processor.ProcessAsync(new DiscoveredFile("comfy.png", 0, DateTimeOffset.UnixEpoch), new IngestParameters(), progress, CancellationToken.None);

        Assert.That(outcome.Result.State, Is.EqualTo(FileStates.Committed), outcome.Result.Reason);
        var media = outcome.Media!;
        Assert.That((media.Prompt, media.NegativePrompt, media.Steps, media.Sampler, media.CfgScale, media.Seed, media.Model), Is.EqualTo((
            "a red fox in deep snow, golden hour, <lora:ignored:1>", "lowres, blurry, watermark", 15, "dpmpp_2m_sde", 6.5, 1002L, "sdxl/juggernautXL_v9.safetensors")));
        Assert.That(media.Loras, Is.EqualTo(new[] { "add-detail-xl.safetensors", "styles/foxStyle_v2.safetensors", "ignored" }),
            "the graph's loaders, then the prompt tag the keyword parser saw");
        Assert.That(media.Keywords, Does.Contain("a red fox in deep snow"));
    }

    /// <summary>A JPEG from SkiaSharp with an APP1 Exif segment holding only a UserComment, placed right after SOI.</summary>
    private static void WriteJpegWithUserComment(string path, byte[] comment, bool bigEndian)
    {
        MediaFactory.WriteJpeg(path, 64, 48, null);
        var jpeg = File.ReadAllBytes(path);
        byte[] body = [.. "Exif\0\0"u8, .. ExifTiff(comment, bigEndian)];
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, checked((ushort)(body.Length + 2)));
        File.WriteAllBytes(path, [.. jpeg[..2], 0xFF, 0xE1, .. length, .. body, .. jpeg[2..]]);
    }

    /// <summary>
    /// A TIFF header, IFD0 with one ExifOffset entry, and the Exif IFD with one UserComment (UNDEFINED) entry,
    /// the structure piexif.dump({"Exif": {UserComment: …}}) produces.
    /// </summary>
    private static byte[] ExifTiff(byte[] comment, bool bigEndian)
    {
        const int ifd0 = 8, exifIfd = ifd0 + 18, data = exifIfd + 18;
        var tiff = new byte[data + comment.Length];
        void U16(int at, int value)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(at), (ushort)value);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(at), (ushort)value);
            }
        }

        void U32(int at, int value)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(at), (uint)value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(at), (uint)value);
            }
        }

        tiff[0] = tiff[1] = (byte)(bigEndian ? 'M' : 'I');
        U16(2, 42);
        U32(4, ifd0);
        U16(ifd0, 1);
        U16(ifd0 + 2, 0x8769);
        U16(ifd0 + 4, 4);
        U32(ifd0 + 6, 1);
        U32(ifd0 + 10, exifIfd);
        U32(ifd0 + 14, 0);
        U16(exifIfd, 1);
        U16(exifIfd + 2, 0x9286);
        U16(exifIfd + 4, 7);
        U32(exifIfd + 6, comment.Length);
        U32(exifIfd + 10, data);
        U32(exifIfd + 14, 0);
        comment.CopyTo(tiff, data);
        return tiff;
    }

    /// <summary>A SkiaSharp WebP made extended: a VP8X chunk with the EXIF flag, the image chunk, then an EXIF chunk.</summary>
    private static void WriteWebpWithExif(string path, byte[] tiff)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(40, 30, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(200, 120, 40));
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Webp, 80) ?? throw new InvalidOperationException("SkiaSharp could not encode WebP");
        var webp = encoded.ToArray();
        Assert.That(Encoding.ASCII.GetString(webp, 12, 4), Is.EqualTo("VP8 "), "a simple lossy WebP to extend");
        var vp8x = new byte[10];
        vp8x[0] = 0x08;
        WriteUInt24(vp8x.AsSpan(4), 40 - 1);
        WriteUInt24(vp8x.AsSpan(7), 30 - 1);
        byte[] chunks = [.. Chunk("VP8X", vp8x), .. webp[12..], .. Chunk("EXIF", tiff)];
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)(4 + chunks.Length));
        File.WriteAllBytes(path, [.. "RIFF"u8, .. size, .. "WEBP"u8, .. chunks]);
    }

    private static byte[] Chunk(string fourCc, byte[] payload)
    {
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)payload.Length);
        return [.. Encoding.ASCII.GetBytes(fourCc), .. size, .. payload, .. (payload.Length % 2 == 1 ? new byte[1] : [])];
    }

    private static void WriteUInt24(Span<byte> target, int value)
    {
        target[0] = (byte)value;
        target[1] = (byte)(value >> 8);
        target[2] = (byte)(value >> 16);
    }

    private sealed class FixedMonitor(IngestOptions value) : IOptionsMonitor<IngestOptions>
    {
        public IngestOptions CurrentValue => value;

        public IngestOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<IngestOptions, string?> listener) => null;
    }
}
