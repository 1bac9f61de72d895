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
    public static ulong? Compute(Stream stream) => Decode(stream, thumbnailSide: 0)?.Hash;

    /// <summary>
    /// Decodes an image once for both of its small derivatives: the hash, and (when <paramref name="thumbnailSide"/>
    /// is above 0) a WebP thumbnail whose longest side is at most that many pixels. The codec downscales while
    /// decoding where it can (JPEG at 1/2, 1/4, 1/8 almost for free). Null when the bytes are not a decodable image;
    /// truncated image data throws.
    /// </summary>
    public static ImageDerivatives? Decode(Stream stream, int thumbnailSide, int webpQuality = 80)
    {
        using var codec = SKCodec.Create(new SKManagedStream(stream, disposeManagedStream: true));
        if (codec is null)
        {
            return null;
        }

        var (width, height) = (Math.Max(1, codec.Info.Width), Math.Max(1, codec.Info.Height));
        var scale = Math.Max(64f / Math.Min(width, height), thumbnailSide > 0 ? (float)thumbnailSide / Math.Max(width, height) : 0);
        var size = codec.GetScaledDimensions(Math.Min(1f, scale));
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

        var hash = Hash(decoded);
        if (hash is null || thumbnailSide <= 0)
        {
            return hash is null ? null : new ImageDerivatives(hash.Value, null);
        }

        var fit = Math.Min(1.0, (double)thumbnailSide / Math.Max(decoded.Width, decoded.Height));
        var thumbInfo = new SKImageInfo(Math.Max(1, (int)Math.Round(decoded.Width * fit)), Math.Max(1, (int)Math.Round(decoded.Height * fit)), SKColorType.Rgba8888, SKAlphaType.Premul);
        using var thumb = fit < 1 ? decoded.Resize(thumbInfo, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)) : decoded.Copy();
        using var data = thumb?.Encode(SKEncodedImageFormat.Webp, webpQuality);
        return new ImageDerivatives(hash.Value, data?.ToArray());
    }

    private static ulong? Hash(SKBitmap decoded)
    {
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

/// <summary>An image's perceptual hash, and its WebP thumbnail when one was asked for (null if the encoder failed).</summary>
public sealed record ImageDerivatives(ulong Hash, byte[]? Thumbnail);
