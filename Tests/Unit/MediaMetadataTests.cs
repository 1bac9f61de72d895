using IngestLite.Jobs.Stages;
using IngestLite.Jobs.Stages.Generation;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Unit;

public sealed class MediaMetadataTests
{
    private const string FoxPrompt = "masterpiece, (best quality:1.2), a red fox, <lora:foxStyle:0.8>, forest";

    private TempDirectory _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void Read_png_with_a1111_parameters()
    {
        var path = _temp.Combine("a1111.png");
        MediaFactory.WritePng(path, 96, 64, [("parameters", MediaFactory.A1111Parameters(FoxPrompt))]);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((96, 64)));
        var generation = metadata.Generation!;
        Assert.That(
            (generation.Source, generation.Prompt, generation.NegativePrompt, generation.Steps, generation.Sampler, generation.CfgScale, generation.Seed, generation.Model),
            Is.EqualTo((GenerationSources.A1111, FoxPrompt, "blurry", 20, "Euler a", 7.0, 12345L, "sdxl_base")));
        Assert.That((generation.Width, generation.Height), Is.EqualTo((512, 512)), "the generation size, from Size: 512x512");
        Assert.That(generation.Loras, Is.EqualTo(new[] { new Lora("foxStyle", 0.8) }));
        Assert.That(generation.Warnings, Is.Empty);
        Assert.That(metadata.PositivePrompt, Is.EqualTo(FoxPrompt));
        Assert.That(metadata.TextChunks, Does.ContainKey("parameters"));
        Assert.That(metadata.ComfyPrompt, Is.Null);
        Assert.That(metadata.TakenAt, Is.Null);
        Assert.That(metadata.DurationSeconds, Is.Null);
    }

    [Test]
    public void Reading_a_large_png_s_metadata_does_not_read_its_pixels_and_text_after_the_pixels_is_still_found()
    {
        // 1024² of noise: ~3 MB of IDAT. One text chunk before the pixels, one after them, which must still be seen.
        var noise = new byte[1024 * 1024 * 4];
        new Random(3).NextBytes(noise);
        using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(1024, 1024, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(noise, 0, bitmap.GetPixels(), noise.Length);
        var bytes = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray();
        const int AfterHeader = 8 + 25;
        var iend = bytes.Length - 12;
        byte[] after = [.. bytes[..AfterHeader], .. PngTextChunk("parameters", MediaFactory.A1111Parameters(FoxPrompt)), .. bytes[AfterHeader..iend],
            .. PngTextChunk("prompt", MediaFactory.ComfyPrompt("after the pixels")), .. bytes[iend..]];
        using var stream = new MemoryStream(after);
        MediaMetadataReader.Read(new MemoryStream(after));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var metadata = MediaMetadataReader.Read(stream);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((1024, 1024)));
        Assert.That(metadata.TextChunks!["parameters"], Is.EqualTo(MediaFactory.A1111Parameters(FoxPrompt)));
        Assert.That(metadata.ComfyPrompt, Does.Contain("after the pixels"));
        Assert.That(bytes.Length, Is.GreaterThan(1_000_000), "the image data is large");
        Assert.That(allocated, Is.LessThan(bytes.Length / 4), "the pixel data is skipped, not read into memory");
    }

    [Test]
    public void A_png_cut_short_inside_its_pixels_still_reports_its_header_and_text()
    {
        var path = _temp.Combine("cut.png");
        MediaFactory.WritePng(path, 256, 256, [("parameters", MediaFactory.A1111Parameters(FoxPrompt))], seed: 4);
        var bytes = File.ReadAllBytes(path);

        var metadata = MediaMetadataReader.Read(new MemoryStream(bytes[..(bytes.Length / 2)]));

        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((256, 256)));
        Assert.That(metadata.Generation?.Prompt, Is.EqualTo(FoxPrompt));
    }

    private static byte[] PngTextChunk(string key, string text)
    {
        byte[] typed = [.. "tEXt"u8, .. System.Text.Encoding.Latin1.GetBytes(key), 0, .. System.Text.Encoding.Latin1.GetBytes(text)];
        var chunk = new byte[typed.Length + 8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(chunk, typed.Length - 4);
        typed.CopyTo(chunk, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(chunk.Length - 4), Crc32.Compute(typed));
        return chunk;
    }

    [Test]
    public void Read_png_with_comfyui_prompt_and_workflow()
    {
        var path = _temp.Combine("comfy.png");
        var prompt = MediaFactory.ComfyPrompt("a blue whale, ocean, Ocean");
        var workflow = MediaFactory.ComfyWorkflow();
        MediaFactory.WritePng(path, 80, 80, [("prompt", prompt), ("workflow", workflow)]);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.ComfyPrompt, Is.EqualTo(prompt));
        Assert.That(metadata.ComfyWorkflow, Is.EqualTo(workflow));
        Assert.That(metadata.Generation?.Source, Is.EqualTo(GenerationSources.ComfyUI));
        Assert.That(metadata.Generation?.NegativePrompt, Is.EqualTo("lowres, watermark"));
        Assert.That(metadata.Generation?.Model, Is.EqualTo("sdxl_base.safetensors"));
        Assert.That(metadata.PositivePrompt, Is.EqualTo("a blue whale, ocean, Ocean"));
        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((80, 80)));
    }

    [Test]
    public void Read_png_with_utf8_itxt_parameters()
    {
        var path = _temp.Combine("itxt.png");
        var prompt = "猫, 桜の木, Ωmega";
        MediaFactory.WritePngWithITxt(path, 20, 10, [("parameters", MediaFactory.A1111Parameters(prompt))]);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.Generation?.Prompt, Is.EqualTo(prompt));
        Assert.That(metadata.Generation?.Seed, Is.EqualTo(12345));
    }

    [Test]
    public void Read_png_with_latin1_text_decodes_it_as_latin1()
    {
        // tEXt is Latin-1 by spec, and PIL (A1111, ComfyUI) writes Latin-1-encodable text this way.
        var path = _temp.Combine("latin1.png");
        MediaFactory.WritePng(path, 20, 10, [("parameters", MediaFactory.A1111Parameters("café crème, naïve"))]);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.Generation?.Prompt, Is.EqualTo("café crème, naïve"));
    }

    [Test]
    public void Read_png_whose_text_holds_a_nul_keeps_only_the_text_before_it()
    {
        // MetadataExtractor reads tEXt as a NUL-terminated string: everything after the NUL,
        // settings line included, is lost. Pinned here so a change of behaviour is noticed.
        var path = _temp.Combine("nul.png");
        MediaFactory.WritePng(path, 20, 10, [("parameters", MediaFactory.A1111Parameters("cat\0 sitting, window"))]);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.PositivePrompt, Does.StartWith("cat"));
        Assert.That(metadata.PositivePrompt, Does.Not.Contain('\0'));
        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((20, 10)));
    }

    [Test]
    public void Read_jpeg_exif_date_as_utc()
    {
        var path = _temp.Combine("exif.jpg");
        MediaFactory.WriteJpeg(path, 120, 90, new DateTime(2021, 6, 15, 10, 30, 0));

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.TakenAt, Is.EqualTo(new DateTimeOffset(2021, 6, 15, 10, 30, 0, TimeSpan.Zero)));
        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((120, 90)));
        Assert.That(metadata.Generation, Is.Null);
    }

    [Test]
    public void Read_jpeg_without_exif_has_no_date()
    {
        var path = _temp.Combine("upper.JPG");
        MediaFactory.WriteJpeg(path, 64, 48, null);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.TakenAt, Is.Null);
        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((64, 48)));
    }

    [Test]
    public void Read_mp4_duration_and_dimensions()
    {
        var path = _temp.Combine("clip.mp4");
        MediaFactory.WriteMp4(path, 12.5);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.DurationSeconds, Is.EqualTo(12.5).Within(0.001));
        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((640, 360)));
        Assert.That(metadata.TakenAt, Is.Null);
    }

    [Test]
    public void Read_mp4_with_other_dimensions()
    {
        var path = _temp.Combine("portrait.mp4");
        MediaFactory.WriteMp4(path, 0.25, 1080, 1920);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That(metadata.DurationSeconds, Is.EqualTo(0.25).Within(0.001));
        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((1080, 1920)));
    }

    [Test]
    public void Read_corrupt_png_throws_or_yields_no_dimensions()
    {
        var path = _temp.Combine("corrupt.png");
        MediaFactory.WriteCorruptPng(path);

        MediaMetadata? metadata = null;
        try
        {
            metadata = MediaMetadataReader.Read(path);
        }
        catch (Exception ex) when (ex is IOException or MetadataExtractor.ImageProcessingException)
        {
            Assert.Pass($"threw {ex.GetType().Name}: {ex.Message}");
        }

        Assert.That(metadata.Width, Is.Null);
        Assert.That(metadata.Height, Is.Null);
    }

    [Test]
    public void Read_zero_byte_file_throws()
    {
        var path = _temp.Combine("zero.png");
        MediaFactory.WriteZeroByte(path);

        Assert.That(() => MediaMetadataReader.Read(path), Throws.InstanceOf<MetadataExtractor.ImageProcessingException>().Or.InstanceOf<IOException>());
    }

    [Test]
    public void Read_truncated_jpeg_still_has_its_header_dimensions()
    {
        var path = _temp.Combine("truncated.jpg");
        MediaFactory.WriteTruncatedJpeg(path);

        var metadata = MediaMetadataReader.Read(path);

        Assert.That((metadata.Width, metadata.Height), Is.EqualTo((256, 256)));
    }
}
