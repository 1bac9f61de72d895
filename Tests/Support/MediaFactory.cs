using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SkiaSharp;

namespace IngestLite.Tests.Support;

/// <summary>
/// Writes real PNG, JPEG and MP4 files from code, so the tests need no checked-in fixtures.
/// </summary>
/// <remarks>
/// What MetadataExtractor 2.4.3 returns for PNG text (pinned by MediaFactoryTests): a tEXt or
/// iTXt value is read as a NUL-terminated string, so text after an embedded NUL is silently
/// dropped ("cat\0 sitting, window" reads back as "cat"). Both come back as a <c>StringValue</c>
/// tagged Latin-1, even iTXt, whose bytes are UTF-8: the caller must decode by chunk type.
/// </remarks>
public static class MediaFactory
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A PNG whose pixels vary with <paramref name="seed"/>, with Latin-1 <c>tEXt</c> chunks right after IHDR.</summary>
    public static void WritePng(string path, int width, int height, IReadOnlyList<(string Key, string Text)>? textChunks = null, byte seed = 0) =>
        WritePngWithChunks(path, width, height, (textChunks ?? []).Select(c => TextChunk(c.Key, c.Text)), seed);

    /// <summary>A PNG with uncompressed UTF-8 <c>iTXt</c> chunks, for text that Latin-1 cannot hold.</summary>
    public static void WritePngWithITxt(string path, int width, int height, IReadOnlyList<(string Key, string Text)> textChunks, byte seed = 0) =>
        WritePngWithChunks(path, width, height, textChunks.Select(c => InternationalTextChunk(c.Key, c.Text)), seed);

    /// <summary>A JPEG with, when <paramref name="dateTimeOriginal"/> is given, an Exif APP1 segment holding it.</summary>
    public static void WriteJpeg(string path, int width, int height, DateTime? dateTimeOriginal, byte seed = 0)
    {
        var jpeg = EncodePixels(width, height, seed, SKEncodedImageFormat.Jpeg);
        using var output = CreateFile(path);
        output.Write(jpeg, 0, 2);
        if (dateTimeOriginal is { } taken)
        {
            // Cameras put Exif first, before any JFIF segment; readers accept it there.
            output.Write(ExifSegment(taken));
        }

        output.Write(jpeg, 2, jpeg.Length - 2);
    }

    /// <summary>A minimal ISO-BMFF file: <c>ftyp</c> plus a <c>moov</c> with <c>mvhd</c> and one <c>trak</c>/<c>tkhd</c>.</summary>
    /// <remarks>
    /// MetadataExtractor 2.4.3 reports mvhd's duration as a <see cref="TimeSpan"/> already divided by the
    /// timescale, and tkhd's width and height as decimals.
    /// </remarks>
    public static void WriteMp4(string path, double durationSeconds, int width = 640, int height = 360)
    {
        var durationMs = checked((uint)Math.Round(durationSeconds * 1000));
        var ftyp = Box("ftyp", Ascii("isom"), UInt32(0x200), Ascii("isomiso2mp41"));
        var moov = Box("moov", Box("mvhd", MovieHeader(durationMs)), Box("trak", Box("tkhd", TrackHeader(durationMs, width, height))));
        CreateParent(path);
        File.WriteAllBytes(path, [.. ftyp, .. moov]);
    }

    /// <summary>A PNG signature followed by an IHDR chunk cut off after four of its thirteen bytes.</summary>
    public static void WriteCorruptPng(string path)
    {
        CreateParent(path);
        File.WriteAllBytes(path, [.. PngSignature, .. UInt32(13), .. Ascii("IHDR"), 0x00, 0x00, 0x01, 0x00]);
    }

    /// <summary>The first half of a real JPEG: headers intact, entropy-coded data cut short.</summary>
    public static void WriteTruncatedJpeg(string path, byte seed = 0)
    {
        var jpeg = EncodePixels(256, 256, seed, SKEncodedImageFormat.Jpeg);
        CreateParent(path);
        File.WriteAllBytes(path, jpeg[..(jpeg.Length / 2)]);
    }

    public static void WriteZeroByte(string path)
    {
        CreateParent(path);
        File.WriteAllBytes(path, []);
    }

    /// <summary>Writes <c>&lt;dir&gt;/.scores/&lt;file name&gt;.json</c>, the sidecar the score stage reads.</summary>
    public static string WriteScoreSidecar(string mediaPath, string json)
    {
        var sidecar = Path.Join(Path.GetDirectoryName(Path.GetFullPath(mediaPath)), ".scores", Path.GetFileName(mediaPath) + ".json");
        CreateParent(sidecar);
        File.WriteAllText(sidecar, json);
        return sidecar;
    }

    /// <summary>An A1111 <c>parameters</c> text: prompt, optional negative line, then the settings line.</summary>
    public static string A1111Parameters(
        string prompt,
        string? negative = "blurry",
        int steps = 20,
        string sampler = "Euler a",
        double cfg = 7,
        long seed = 12345,
        string model = "sdxl_base")
    {
        var builder = new StringBuilder(prompt);
        if (negative is not null)
        {
            builder.Append("\nNegative prompt: ").Append(negative);
        }

        return builder.Append(CultureInfo.InvariantCulture, $"\nSteps: {steps}, Sampler: {sampler}, CFG scale: {cfg}, Seed: {seed}, Size: 512x512, Model: {model}").ToString();
    }

    /// <summary>A ComfyUI prompt graph whose first node with a text input is the positive prompt.</summary>
    public static string ComfyPrompt(string positiveText, string negativeText = "lowres, watermark")
    {
        var graph = new JsonObject
        {
            ["3"] = Node("KSampler", new JsonObject
            {
                ["seed"] = 12345,
                ["steps"] = 20,
                ["cfg"] = 7,
                ["sampler_name"] = "euler",
                ["scheduler"] = "normal",
                ["denoise"] = 1,
                ["model"] = Link("4", 0),
                ["positive"] = Link("6", 0),
                ["negative"] = Link("7", 0),
                ["latent_image"] = Link("5", 0),
            }),
            ["4"] = Node("CheckpointLoaderSimple", new JsonObject { ["ckpt_name"] = "sdxl_base.safetensors" }),
            ["5"] = Node("EmptyLatentImage", new JsonObject { ["width"] = 512, ["height"] = 512, ["batch_size"] = 1 }),
            ["6"] = Node("CLIPTextEncode", new JsonObject { ["text"] = positiveText, ["clip"] = Link("4", 1) }),
            ["7"] = Node("CLIPTextEncode", new JsonObject { ["text"] = negativeText, ["clip"] = Link("4", 1) }),
        };
        return graph.ToJsonString();
    }

    /// <summary>A small ComfyUI UI workflow, the companion of <see cref="ComfyPrompt"/>.</summary>
    public static string ComfyWorkflow() => new JsonObject
    {
        ["last_node_id"] = 7,
        ["last_link_id"] = 0,
        ["nodes"] = new JsonArray(
            new JsonObject { ["id"] = 4, ["type"] = "CheckpointLoaderSimple", ["widgets_values"] = new JsonArray("sdxl_base.safetensors") },
            new JsonObject { ["id"] = 6, ["type"] = "CLIPTextEncode", ["widgets_values"] = new JsonArray("positive") }),
        ["links"] = new JsonArray(),
        ["version"] = 0.4,
    }.ToJsonString();

    /// <summary>
    /// Builds the corpus the integration tests ingest under <paramref name="root"/>, plus an
    /// <paramref name="outsideFolder"/> (default: the sibling <c>&lt;root&gt;.outside</c>) that the
    /// escaping symlinks point into. Pass a root inside a temporary folder so one delete removes both.
    /// </summary>
    public static StandardCorpus BuildStandardCorpus(string root, string? outsideFolder = null)
    {
        root = Path.GetFullPath(root);
        var outside = Path.GetFullPath(outsideFolder ?? root.TrimEnd('/') + ".outside");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);
        string At(string relative) => Path.Join(root, relative);

        WritePng(At(StandardCorpus.A1111), 96, 64, [("parameters", A1111Parameters(StandardCorpus.A1111Prompt))], seed: 1);
        WriteScoreSidecar(At(StandardCorpus.A1111), """{"score": 4.5}""");
        WritePng(At(StandardCorpus.Comfy), 80, 80, [("prompt", ComfyPrompt(StandardCorpus.ComfyPositive)), ("workflow", ComfyWorkflow())], seed: 2);
        WritePng(At(StandardCorpus.NulPrompt), 64, 64, [("parameters", A1111Parameters(StandardCorpus.NulPromptText))], seed: 3);
        WriteJpeg(At(StandardCorpus.ExifJpeg), 120, 90, StandardCorpus.ExifTakenAt, seed: 4);
        WriteJpeg(At(StandardCorpus.UpperJpeg), 64, 48, null, seed: 5);
        WritePng(At(StandardCorpus.Inner), 32, 32, seed: 6);
        WriteMp4(At(StandardCorpus.Clip), StandardCorpus.ClipSeconds);
        WritePng(At(StandardCorpus.BadScore), 40, 40, seed: 7);
        WriteScoreSidecar(At(StandardCorpus.BadScore), "{not json");
        WritePng(At(StandardCorpus.BigScore), 40, 30, seed: 8);
        WriteScoreSidecar(At(StandardCorpus.BigScore), """{"score": 99}""");
        File.WriteAllText(At(StandardCorpus.Notes), "not media\n");

        WriteCorruptPng(At(StandardCorpus.Corrupt));
        WriteZeroByte(At(StandardCorpus.Zero));
        WriteTruncatedJpeg(At(StandardCorpus.Truncated), seed: 9);
        WritePng(At(StandardCorpus.Good), 48, 48, seed: 10);

        var escapeTarget = Path.Join(outside, "escape-target.png");
        WritePng(escapeTarget, 16, 16, seed: 11);
        File.CreateSymbolicLink(At(StandardCorpus.Escape), escapeTarget);
        var outsideDirectory = Path.Join(outside, "dir");
        WritePng(Path.Join(outsideDirectory, "outside.png"), 16, 16, seed: 12);
        Directory.CreateSymbolicLink(At(StandardCorpus.OutsideDir), outsideDirectory);

        return new StandardCorpus(root, outside, escapeTarget, outsideDirectory);
    }

    private static void WritePngWithChunks(string path, int width, int height, IEnumerable<byte[]> chunks, byte seed)
    {
        var png = EncodePixels(width, height, seed, SKEncodedImageFormat.Png);
        var afterHeader = PngSignature.Length + 12 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(PngSignature.Length));
        using var output = CreateFile(path);
        output.Write(png, 0, afterHeader);
        foreach (var chunk in chunks)
        {
            output.Write(chunk);
        }

        output.Write(png, afterHeader, png.Length - afterHeader);
    }

    /// <summary>A smooth wave whose frequencies and phase depend on the seed, so perceptual hashes differ.</summary>
    private static byte[] EncodePixels(int width, int height, byte seed, SKEncodedImageFormat format)
    {
        var fx = 1 + (seed % 3);
        var fy = (seed / 3) % 3;
        var phase = seed * 0.9;
        var pixels = new SKColor[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var wave = Math.Sin((2 * Math.PI * ((fx * (double)x / width) + (fy * (double)y / height))) + phase);
                var level = (byte)Math.Round(127.5 + (127.5 * wave));
                pixels[(y * width) + x] = new SKColor(level, (byte)(255 - level), (byte)(seed * 37));
            }
        }

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque)) { Pixels = pixels };
        using var data = bitmap.Encode(format, 90) ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}");
        return data.ToArray();
    }

    private static byte[] TextChunk(string key, string text)
    {
        if (text.Any(c => c > '\u00ff'))
        {
            throw new ArgumentException("tEXt holds Latin-1 only; use WritePngWithITxt", nameof(text));
        }

        return PngChunk("tEXt", [.. Keyword(key), 0, .. Encoding.Latin1.GetBytes(text)]);
    }

    /// <summary>Keyword, NUL, compression flag and method (none), empty language and translated keyword, UTF-8 text.</summary>
    private static byte[] InternationalTextChunk(string key, string text) =>
        PngChunk("iTXt", [.. Keyword(key), 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(text)]);

    private static byte[] Keyword(string key) =>
        key.Length is >= 1 and <= 79 && !key.Contains('\0') ? Encoding.Latin1.GetBytes(key) : throw new ArgumentException("a PNG keyword has 1-79 characters", nameof(key));

    private static byte[] PngChunk(string type, byte[] data)
    {
        byte[] typeAndData = [.. Ascii(type), .. data];
        return [.. UInt32((uint)data.Length), .. typeAndData, .. UInt32(Crc32.Compute(typeAndData))];
    }

    /// <summary>APP1 "Exif": a little-endian TIFF whose IFD0 points at an Exif sub-IFD holding DateTimeOriginal.</summary>
    private static byte[] ExifSegment(DateTime taken)
    {
        const uint ifd0 = 8, subIfd = ifd0 + 18, dateValue = subIfd + 18;
        using var tiff = new MemoryStream();
        using (var writer = new BinaryWriter(tiff))
        {
            writer.Write("II"u8);
            writer.Write((ushort)42);
            writer.Write(ifd0);
            WriteSingleEntryIfd(writer, tag: 0x8769, type: 4, count: 1, value: subIfd);
            WriteSingleEntryIfd(writer, tag: 0x9003, type: 2, count: 20, value: dateValue);
            writer.Write(Encoding.ASCII.GetBytes(taken.ToString("yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture)));
            writer.Write((byte)0);
        }

        byte[] body = [.. "Exif\0\0"u8, .. tiff.ToArray()];
        return [0xFF, 0xE1, .. UInt16((ushort)(body.Length + 2)), .. body];
    }

    private static void WriteSingleEntryIfd(BinaryWriter writer, ushort tag, ushort type, uint count, uint value)
    {
        writer.Write((ushort)1);
        writer.Write(tag);
        writer.Write(type);
        writer.Write(count);
        writer.Write(value);
        writer.Write(0u);
    }

    /// <summary>mvhd version 0: times, timescale 1000, duration, rate 1.0, volume 1.0, identity matrix, next track id.</summary>
    private static byte[] MovieHeader(uint durationMs) =>
        [.. UInt32(0), .. UInt32(0), .. UInt32(0), .. UInt32(1000), .. UInt32(durationMs), .. UInt32(0x00010000), .. UInt16(0x0100),
         .. new byte[10], .. IdentityMatrix(), .. new byte[24], .. UInt32(2)];

    /// <summary>tkhd version 0, flags enabled|in-movie|in-preview, track 1, width and height as 16.16 fixed point.</summary>
    private static byte[] TrackHeader(uint durationMs, int width, int height) =>
        [.. UInt32(0x00000007), .. UInt32(0), .. UInt32(0), .. UInt32(1), .. UInt32(0), .. UInt32(durationMs), .. new byte[8],
         .. UInt16(0), .. UInt16(0), .. UInt16(0), .. UInt16(0), .. IdentityMatrix(), .. UInt32((uint)width << 16), .. UInt32((uint)height << 16)];

    private static byte[] IdentityMatrix() =>
        [.. UInt32(0x00010000), .. UInt32(0), .. UInt32(0), .. UInt32(0), .. UInt32(0x00010000), .. UInt32(0), .. UInt32(0), .. UInt32(0), .. UInt32(0x40000000)];

    private static byte[] Box(string type, params byte[][] payloads)
    {
        var size = 8 + payloads.Sum(p => p.Length);
        return [.. UInt32((uint)size), .. Ascii(type), .. payloads.SelectMany(p => p)];
    }

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] UInt16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static FileStream CreateFile(string path)
    {
        CreateParent(path);
        return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
    }

    private static void CreateParent(string path) => Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);

    private static JsonObject Node(string classType, JsonObject inputs) => new() { ["class_type"] = classType, ["inputs"] = inputs };

    private static JsonArray Link(string node, int output) => new(node, output);
}

/// <summary>The standard CRC-32 (ISO-HDLC, as in PNG and zlib); System.IO.Hashing is not referenced.</summary>
public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
