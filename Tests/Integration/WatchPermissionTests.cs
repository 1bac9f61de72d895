using System.Net;
using System.Net.Http.Json;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>
/// A watched folder holding a file and a sub-folder the app may not read. The app runs as a child process without
/// root's power to read anything (see <see cref="ChildApp.StartAsync"/>), so mode 000 means what it means for a user.
/// </summary>
[NonParallelizable]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WatchPermissionTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = Path.Combine(Path.GetTempPath(), "ingestlite-watch-perm-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown()
    {
        foreach (var path in new[] { Path.Combine(_work, "media", "w", "locked"), Path.Combine(_work, "media", "w", "secret.png") })
        {
            if (Path.Exists(path))
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        TestSuite.TryDelete(_work);
    }

    [Test]
    public async Task Unreadable_files_and_folders_are_errors_of_the_watch_that_arrive_live_and_the_rest_goes_on()
    {
        var folder = Path.Combine(_work, "media", "w");
        MediaFactory.WritePng(Path.Combine(folder, "ok.png"), 16, 16, null, seed: 1);
        MediaFactory.WritePng(Path.Combine(folder, "locked", "inside.png"), 16, 16, null, seed: 2);
        File.SetUnixFileMode(Path.Combine(folder, "locked"), UnixFileMode.None);
        using var app = await ChildApp.StartAsync(_work, new Dictionary<string, string>
        {
            ["Watch:StabilityPeriod"] = "00:00:00.300",
            ["Watch:LookInterval"] = "00:00:00.050",
            ["Watch:ReconcileInterval"] = "00:00:01",
        }, obeyFilePermissions: true);
        using var http = app.CreateClient();
        var api = new IngestClient(http);
        string sessionId;
        using (var created = await http.PostAsJsonAsync("api/watch", new { directory = "w", recursive = true }))
        {
            var body = IngestClient.Parse(await created.Content.ReadAsStringAsync());
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), body.ToJsonString());
            sessionId = body["session_id"]!.GetValue<string>();
        }

        var status = await api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.committed_files") == 1 && IngestClient.Int(s, "stats.errors") == 1);
        Assert.That(status["errors"]![0]!.GetValue<string>(), Does.Contain("w/locked").And.Contain("permission denied"), status.ToJsonString());

        // A file written unreadable: it fails with the reason, live, and the watch goes on.
        var secret = Path.Combine(folder, "secret.png");
        MediaFactory.WritePng(secret, 16, 16, null, seed: 3);
        File.SetUnixFileMode(secret, UnixFileMode.None);
        status = await api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.errors") == 2);
        Assert.That(status["errors"]!.AsArray().Select(e => e!.GetValue<string>()), Has.Some.Contain("secret.png").And.Contain("permission denied"));

        // Fixed: the folder's file arrives with the next reconcile; the error is not said again.
        File.SetUnixFileMode(Path.Combine(folder, "locked"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        status = await api.WaitUntilAsync(sessionId, s => IngestClient.Int(s, "stats.committed_files") == 2);
        Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("watching"));
        Assert.That(IngestClient.Int(status, "stats.errors"), Is.EqualTo(2));
    }
}
