using SkiaSharp;

namespace IngestLite.Jobs.Stages;

/// <summary>
/// 64-bit difference hash (dHash): the image shrunk to 9×8 grey pixels, one bit per horizontal
/// gradient. Near-identical images land within a few bits of each other.
/// </summary>
public static class PerceptualHash
{
    /// <summary>The hash, or null when the bytes are not a decodable image.</summary>
    public static ulong? Compute(string fullPath)
    {
        using var stream = File.OpenRead(fullPath);
        return Compute(stream);
    }

    /// <summary>The hash of an image read from <paramref name="stream"/> (which it disposes), or null when not decodable.</summary>
    public static ulong? Compute(Stream stream)
    {
        using var codec = SKCodec.Create(new SKManagedStream(stream, disposeManagedStream: true));
        if (codec is null)
        {
            return null;
        }

        // Let the codec downscale while decoding (JPEG does this almost for free).
        var size = codec.GetScaledDimensions(Math.Min(1f, 64f / Math.Max(1, Math.Min(codec.Info.Width, codec.Info.Height))));
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            return null;
        }

        if (result == SKCodecResult.IncompleteInput)
        {
            throw new InvalidDataException("image data is truncated");
        }

        using var small = decoded.Resize(new SKImageInfo(9, 8, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        if (small is null)
        {
            return null;
        }

        var pixels = small.GetPixelSpan();
        ulong hash = 0;
        var bit = 0;
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++)
            {
                if (Luma(pixels, y * small.RowBytes, x) < Luma(pixels, y * small.RowBytes, x + 1))
                {
                    hash |= 1UL << bit;
                }

                bit++;
            }
        }

        return hash;
    }

    private static int Luma(ReadOnlySpan<byte> rgba, int row, int x)
    {
        var i = row + (x * 4);
        return (rgba[i] * 299) + (rgba[i + 1] * 587) + (rgba[i + 2] * 114);
    }

    public static int Distance(ulong a, ulong b) => System.Numerics.BitOperations.PopCount(a ^ b);
}
