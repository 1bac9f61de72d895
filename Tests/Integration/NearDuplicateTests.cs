using System.Net;
using System.Text.Json.Nodes;
using IngestLite.Catalog;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace IngestLite.Tests.Integration;

/// <summary>Near-duplicates by perceptual hash: resized and re-encoded copies group together, unrelated images do not.</summary>
[Category("Catalog")]
public sealed class NearDuplicateTests : ApiTest
{
    /// <summary>A picture of random coloured rectangles: different seeds give unrelated pictures.</summary>
    private static SKBitmap Picture(int seed, int width = 640, int height = 480)
    {
        var random = new Random(seed);
        var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var paint = new SKPaint();
        for (var i = 0; i < 12; i++)
        {
            paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            canvas.DrawRect(random.Next(width), random.Next(height), random.Next(40, width / 2), random.Next(40, height / 2), paint);
        }

        return bitmap;
    }

    private void Save(SKBitmap bitmap, string name, SKEncodedImageFormat format, int quality = 100)
    {
        using var data = bitmap.Encode(format, quality);
        File.WriteAllBytes(Path.Combine(FolderPath, name), data.ToArray());
    }

    [Test]
    public async Task Resized_and_reencoded_copies_are_near_duplicates_and_unrelated_images_are_not()
    {
        using (var original = Picture(1))
        using (var half = original.Resize(new SKImageInfo(320, 240), new SKSamplingOptions(SKFilterMode.Linear)))
        {
            Save(original, "original.png", SKEncodedImageFormat.Png);
            Save(half, "half.png", SKEncodedImageFormat.Png);
            Save(original, "recompressed.jpg", SKEncodedImageFormat.Jpeg, 60);
        }

        for (var seed = 2; seed < 8; seed++)
        {
            using var other = Picture(seed);
            Save(other, $"other-{seed}.png", SKEncodedImageFormat.Png);
        }

        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder, pattern = "*.png|*.jpg" }));
        var ids = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Folder}&limit=100"))["items"]!.AsArray()
            .ToDictionary(i => i!["path"]!.GetValue<string>()[(Folder.Length + 1)..], i => i!["id"]!.GetValue<long>());
        Assert.That(ids, Has.Count.EqualTo(9));

        var similar = IngestClient.Parse(await Http.GetStringAsync($"api/media/{ids["original.png"]}/similar"));
        var near = similar["items"]!.AsArray().Select(i => i!["media"]!["path"]!.GetValue<string>()[(Folder.Length + 1)..]).ToList();
        Assert.That(near, Is.EquivalentTo(new[] { "half.png", "recompressed.jpg" }), similar.ToJsonString());
        Assert.That(similar["items"]!.AsArray().Select(i => i!["distance"]!.GetValue<int>()), Is.All.LessThanOrEqualTo(6));

        var groups = IngestClient.Parse(await Http.GetStringAsync("api/media/duplicates?limit=500"))["items"]!.AsArray();
        var ours = groups.Select(g => g!["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()).ToHashSet())
            .Where(g => g.Overlaps(ids.Values)).ToList();
        Assert.That(ours, Has.Count.EqualTo(1), "one group of ours");
        Assert.That(ours[0], Is.EquivalentTo(new[] { ids["original.png"], ids["half.png"], ids["recompressed.jpg"] }));
    }

    [Test]
    public void The_index_finds_every_hash_within_the_distance_and_no_other()
    {
        // Against a plain scan over random hashes and planted neighbours at every distance up to 7.
        var index = new PerceptualIndex(App.Services.GetRequiredService<CatalogDatabase>());
        index.HashOf(-1);
        var random = new Random(5);
        var hashes = new Dictionary<long, ulong>();
        for (long id = -1000; id > -21000; id--)
        {
            var hash = (ulong)random.NextInt64();
            if (id % 10 == 0 && hashes.Count > 0)
            {
                // A neighbour of an earlier hash, 1 to 8 bits away.
                hash = hashes.Values.ElementAt(random.Next(hashes.Count));
                for (var flips = random.Next(1, 9); flips > 0; flips--)
                {
                    hash ^= 1UL << random.Next(64);
                }
            }

            hashes[id] = hash;
            index.Set(id, unchecked((long)hash));
        }

        foreach (var (id, hash) in hashes.Take(300))
        {
            for (var distance = 0; distance <= 7; distance += 3)
            {
                var expected = hashes.Where(h => h.Key != id && System.Numerics.BitOperations.PopCount(h.Value ^ hash) <= distance).Select(h => h.Key).Order();
                var found = index.Near(hash, distance, 100_000, except: id).Where(n => n.Id < 0).Select(n => n.Id).Order();
                Assert.That(found, Is.EqualTo(expected), $"distance {distance}");
            }
        }
    }

    [Test]
    public async Task Similar_of_an_unknown_file_is_404_and_a_bad_distance_400()
    {
        using (var unknown = await Http.GetAsync("api/media/987654321/similar"))
        {
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        using var bad = await Http.GetAsync("api/media/duplicates?distance=99");
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(IngestClient.Parse(await bad.Content.ReadAsStringAsync())["errors"]!["distance"], Is.Not.Null);
    }
}
