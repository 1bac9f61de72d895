using IngestLite.Jobs.Stages;
using SkiaSharp;

namespace IngestLite.Tests.Unit;

public sealed class PerceptualHashTests
{
    [TestCase(1024, 1024, 320, 320)]
    [TestCase(1536, 1024, 320, 213)]
    [TestCase(1001, 333, 320, 106)]
    public void A_thumbnail_is_filtered_not_sampled_and_fits_the_longest_side(int width, int height, int thumbWidth, int thumbHeight)
    {
        // One-pixel black and white checks: a filter that averages gives an even grey, one that samples gives stripes or black.
        using var checks = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                checks.SetPixel(x, y, (x + y) % 2 == 0 ? SKColors.Black : SKColors.White);
            }
        }

        var png = checks.Encode(SKEncodedImageFormat.Png, 100).ToArray();

        var derived = PerceptualHash.Decode(new MemoryStream(png), 320);

        using var thumbnail = SKBitmap.Decode(derived!.Thumbnail);
        Assert.That((thumbnail.Width, thumbnail.Height), Is.EqualTo((thumbWidth, thumbHeight)));
        Assert.That(thumbnail.AlphaType, Is.EqualTo(SKAlphaType.Opaque), "an opaque image's thumbnail has no alpha");
        var levels = Enumerable.Range(0, thumbnail.Height).SelectMany(y => Enumerable.Range(0, thumbnail.Width).Select(x => (int)thumbnail.GetPixel(x, y).Red)).ToList();
        Assert.That(levels.Min(), Is.GreaterThanOrEqualTo(100), "every pixel a mid grey");
        Assert.That(levels.Max(), Is.LessThanOrEqualTo(156), "every pixel a mid grey");
    }
}
