using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>
/// A file that keeps growing past <c>Watch:MaxGrowthWait</c> (a recording, or a writer that never closes): tried as it
/// stands, with the reason said live, and taken again once it holds still. An app of its own, with a 1.5 s cap.
/// </summary>
[NonParallelizable]
public sealed class WatchGrowthTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = Path.Combine(Path.GetTempPath(), "ingestlite-watch-growth-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown() => TestSuite.TryDelete(_work);

    [Test]
    public async Task A_file_still_growing_at_the_cap_is_tried_with_the_reason_and_taken_whole_once_it_holds_still()
    {
        var folder = Path.Combine(_work, "media", "w");
        Directory.CreateDirectory(folder);
        using var app = await ChildApp.StartAsync(_work, new Dictionary<string, string>
        {
            ["Watch:StabilityPeriod"] = "00:00:00.300",
            ["Watch:LookInterval"] = "00:00:00.050",
            ["Watch:MaxGrowthWait"] = "00:00:01.500",
        });
        using var http = app.CreateClient();
        var api = new IngestClient(http);
        string sessionId;
        using (var created = await http.PostAsJsonAsync("api/watch", new { directory = "w" }))
        {
            var body = IngestClient.Parse(await created.Content.ReadAsStringAsync());
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), body.ToJsonString());
            sessionId = body["session_id"]!.GetValue<string>();
        }

        // The whole image, written a few bytes every 100 ms (never still for the 300 ms stability period) until the
        // watch says it gave up waiting; the test, not the clock, decides when the writer stops.
        var whole = Path.Combine(_work, "whole.png");
        MediaFactory.WritePng(whole, 256, 256, null, seed: 9);
        var content = await File.ReadAllBytesAsync(whole);
        var path = Path.Combine(folder, "slow.png");
        var written = 100;
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
        {
            await output.WriteAsync(content.AsMemory(0, written));
            await output.FlushAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            string? reason = null;
            while (reason is null)
            {
                Assert.That(written + 16, Is.LessThan(content.Length), "the writer ran out of bytes before the watch tried the file");
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "a file growing past Watch:MaxGrowthWait was never tried");
                await Task.Delay(100);
                await output.WriteAsync(content.AsMemory(written, 16));
                await output.FlushAsync();
                written += 16;
                var status = await api.StatusAsync(sessionId);
                reason = status["errors"]!.AsArray().Select(e => e!.GetValue<string>()).FirstOrDefault(e => e.Contains("slow.png", StringComparison.Ordinal));
            }

            Assert.That(reason, Does.Contain("still being written after 1.5 s").And.Contain("Watch:MaxGrowthWait"));
            await output.WriteAsync(content.AsMemory(written));
        }

        // Closed and still: taken again, whole (the catalog's hash is the finished file's).
        var expected = Convert.ToHexStringLower(SHA256.HashData(content));
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(50))
        {
            var items = IngestClient.Parse(await http.GetStringAsync("api/media?folder=w"))["items"]!.AsArray();
            if (items.SingleOrDefault(i => i!["path"]!.GetValue<string>() == "w/slow.png") is { } item && item["sha256"]!.GetValue<string>() == expected)
            {
                Assert.That(item["width"]!.GetValue<int>(), Is.EqualTo(256));
                break;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the finished file never reached the catalog: {items.ToJsonString()}");
        }

        var final = await api.StatusAsync(sessionId);
        Assert.That(final["status"]!.GetValue<string>(), Is.EqualTo("watching"));
    }
}
