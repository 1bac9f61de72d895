using System.Net;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>Start-up validation and memory retention, on a child process with its own settings.</summary>
public sealed class LifecycleTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = Path.Combine(Path.GetTempPath(), "ingestlite-life-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown() => TestSuite.TryDelete(_work);

    [TestCase("Ingest:WorkerCount", "0", "WorkerCount")]
    [TestCase("Ingest:SessionRetention", "-00:00:01", "SessionRetention")]
    [TestCase("Stream:MaxStreams", "0", "MaxStreams")]
    [TestCase("Hangfire:WorkerCount", "0", "WorkerCount")]
    [TestCase("Hangfire:ShutdownTimeout", "00:00:00", "ShutdownTimeout")]
    public void A_bad_setting_stops_start_up_with_a_message_naming_it(string key, string value, string named)
    {
        Directory.CreateDirectory(_work);
        var failure = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            using var app = await ChildApp.StartAsync(_work, new Dictionary<string, string> { [key] = value });
        });
        Assert.That(failure!.Message, Does.Contain(named), "the start-up error names the setting");
    }

    [Test]
    public async Task Finished_sessions_leave_memory_after_the_retention_but_keep_their_history()
    {
        MediaFactory.WritePng(Path.Combine(_work, "media", "a", "one.png"), 16, 16, null, seed: 1);
        using var app = await ChildApp.StartAsync(_work, new Dictionary<string, string> { ["Ingest:SessionRetention"] = "00:00:01" });
        using var http = app.CreateClient();
        var api = new IngestClient(http);
        var id = await api.StartAsync(new { directory = "a" });
        await api.WaitForEndAsync(id);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        int inMemory;
        do
        {
            await Task.Delay(200);
            inMemory = IngestClient.Int(IngestClient.Parse(await http.GetStringAsync("api/ingest/metrics")), "sessions_in_memory");
        }
        while (inMemory > 0 && DateTime.UtcNow < deadline);

        Assert.That(inMemory, Is.Zero, "the finished session was not dropped from memory");
        var status = await api.StatusAsync(id);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("completed"), "history stays in the catalog");
        using var stream = await SseReader.OpenAsync(http, $"api/ingest/stream/{id}");
        Assert.That(stream.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a finished session's stream answers with its final event");
    }
}
