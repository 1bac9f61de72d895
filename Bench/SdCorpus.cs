using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using IngestLite.Tests.Support;

namespace IngestLite.Bench;

/// <summary>
/// Stable-Diffusion-sized PNGs, pixel for pixel the ones <c>../shared/peers/make_sd_pngs.py</c> writes (1024×1024 RGB,
/// smooth gradients with noise, zlib level 6, ~3 MB each), but with distinct noise per file and written from C# in
/// parallel. Even files carry A1111 <c>parameters</c>, odd ones a ComfyUI <c>prompt</c> graph and its <c>workflow</c>.
/// </summary>
public static class SdCorpus
{
    public const int Side = 1024;

    public static IReadOnlyList<string> Write(string directory, int count)
    {
        Directory.CreateDirectory(directory);
        var paths = Enumerable.Range(0, count).Select(i => Path.Combine(directory, $"sd_{i:D4}.png")).ToArray();
        Parallel.For(0, count, i => File.WriteAllBytes(paths[i], Png(i)));
        return paths;
    }

    private static byte[] Png(int i)
    {
        const int Row = Side * 3;
        var noise = new byte[Row * 64];
        new Random(i).NextBytes(noise);
        var raw = new byte[(Row + 1) * Side];
        for (var y = 0; y < Side; y++)
        {
            var row = raw.AsSpan((y * (Row + 1)) + 1, Row);
            var nb = noise.AsSpan(y % 64 * Row, Row);
            var level = ((y * 255 / Side) + (i * 7)) & 255;
            for (var x = 0; x < Row; x += 3)
            {
                var v = (level + (x / 12)) & 255;
                row[x] = (byte)(v + (nb[x] & 15));
                row[x + 1] = (byte)((v >> 1) + (nb[x + 1] & 15));
                row[x + 2] = (byte)(255 - v + (nb[x + 2] & 15));
            }
        }

        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(raw);
        }

        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, Side);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), Side);
        header[8] = 8;
        header[9] = 2;
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        foreach (var (key, text) in Text(i))
        {
            Chunk(png, "tEXt", [.. Encoding.Latin1.GetBytes(key), 0, .. Encoding.Latin1.GetBytes(text)]);
        }

        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static (string Key, string Text)[] Text(int i)
    {
        var prompt = $"masterpiece, best quality, (red fox:1.2), forest, autumn leaves, <lora:detail_tweaker:0.8>, seed {i}";
        return i % 2 == 0
            ? [("parameters", $"{prompt}\nNegative prompt: lowres, bad anatomy\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: {1000 + i}, Size: 1024x1024, Model hash: abc123, Model: sdxl_base_1.0")]
            : [("prompt", MediaFactory.ComfyPrompt(prompt)), ("workflow", MediaFactory.ComfyWorkflow())];
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        output.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typed));
        output.Write(word);
    }
}
