using System.Net;
using System.Net.Http.Headers;
using IngestLite.Jobs;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>Thumbnails: made by the ingest, served immutable by content version, made on first ask for older rows.</summary>
[Category("Catalog")]
public sealed class ThumbnailTests : ApiTest
{
    [Test]
    public async Task An_ingested_image_has_a_cacheable_WebP_thumbnail_and_a_video_a_placeholder()
    {
        MediaFactory.WritePng(Path.Combine(FolderPath, "big.png"), 800, 600, null, seed: 7);
        MediaFactory.WriteMp4(Path.Combine(FolderPath, "clip.mp4"), 2.5);
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        var items = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Folder}&sort=name"))["items"]!.AsArray();
        var image = items.Single(i => i!["path"]!.GetValue<string>().EndsWith("big.png", StringComparison.Ordinal))!;
        var url = image["thumbnail_url"]!.GetValue<string>().TrimStart('/');
        Assert.That(url, Does.Match(@"^api/media/\d+/thumbnail\?v=[0-9a-f]{16}$"));

        using var response = await Http.GetAsync(url);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/webp"));
        Assert.That(response.Headers.CacheControl?.ToString(), Does.Contain("immutable"));
        var etag = response.Headers.ETag!;
        Assert.That(etag.IsWeak, Is.False);
        Assert.That(etag.Tag, Is.EqualTo($"\"{image["sha256"]!.GetValue<string>()}\""));
        using (var bitmap = SkiaSharp.SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync()))
        {
            Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((320, 240)));
        }

        using var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(etag);
        using (var notModified = await Http.SendAsync(again))
        {
            Assert.That(notModified.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        }

        using (var unversioned = await Http.GetAsync(url[..url.IndexOf('?')]))
        {
            Assert.That(unversioned.Headers.CacheControl?.NoCache, Is.True, "without its content version, it must be revalidated");
        }

        var video = items.Single(i => i!["path"]!.GetValue<string>().EndsWith("clip.mp4", StringComparison.Ordinal))!;
        using (var placeholder = await Http.GetAsync(video["thumbnail_url"]!.GetValue<string>().TrimStart('/')))
        {
            Assert.That(placeholder.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/svg+xml"));
        }

        using (var unknown = await Http.GetAsync("api/media/987654321/thumbnail"))
        {
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
    }

    [Test]
    public async Task A_row_from_before_the_stage_gets_its_thumbnail_on_first_ask()
    {
        MediaFactory.WritePng(Path.Combine(FolderPath, "old.png"), 400, 400, null, seed: 9);
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        var item = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Folder}"))["items"]![0]!;
        var store = App.Services.GetRequiredService<ThumbnailStore>();
        var sha = item["sha256"]!.GetValue<string>();
        File.Delete(store.PathOf(sha));

        using var response = await Http.GetAsync(item["thumbnail_url"]!.GetValue<string>().TrimStart('/'));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(File.Exists(store.PathOf(sha)), Is.True, "made, and kept for next time");
    }
}
