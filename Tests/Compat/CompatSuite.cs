using System.Text.Json.Nodes;
using IngestLite.Tests.Integration.Browser;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Compat;

/// <summary>
/// The compat tests' own app host (own media root and catalog), so upstream's page, which restores the
/// newest session it finds, sees only the sessions these tests make. It runs only while this namespace's
/// tests run; the browsers they used are closed with it.
/// </summary>
[SetUpFixture]
public sealed class CompatSuite
{
    private static AppHost? _app;

    public static AppHost App => _app ?? throw new InvalidOperationException("The compat test host has not started.");

    [OneTimeSetUp]
    public void StartHost()
    {
        var work = Path.Combine(Path.GetTempPath(), "ingestlite-compat-" + Guid.NewGuid().ToString("N")[..8]);
        _app = new AppHost(work).Start();
    }

    [OneTimeTearDown]
    public async Task StopHostAsync()
    {
        // The browsers are shared with the other browser tests; they are launched again if those run later.
        await new BrowserFixture().CloseAsync();
        if (_app is null)
        {
            return;
        }

        var work = _app.WorkDirectory;
        _app.Dispose();
        _app = null;
        Integration.TestSuite.TryDelete(work);
    }

    /// <summary>A new folder at the top of the media root with <paramref name="count"/> PNGs, and a folder <c>nested</c> inside it with <paramref name="nested"/> more.</summary>
    public static string NewFolder(int count, int nested = 0)
    {
        var folder = "compat-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.Combine(App.MediaRoot, folder));
        for (var i = 0; i < count; i++)
        {
            MediaFactory.WritePng(Path.Combine(App.MediaRoot, folder, $"img-{i}.png"), 16, 16, null, seed: (byte)i);
        }

        for (var i = 0; i < nested; i++)
        {
            MediaFactory.WritePng(Path.Combine(App.MediaRoot, folder, "nested", $"deep-{i}.png"), 16, 16, null, seed: (byte)(100 + i));
        }

        return folder;
    }

    /// <summary>The catalog's paths of media directly in <paramref name="folder"/> (root-relative), from <c>GET /api/media</c>.</summary>
    public static async Task<List<string>> CatalogedAsync(HttpClient http, string folder)
    {
        var search = JsonNode.Parse(await http.GetStringAsync($"api/media?q={Uri.EscapeDataString(folder + "/")}&limit=1000"))!;
        return [.. search["items"]!.AsArray().Select(item => item!["path"]!.GetValue<string>()).Where(path => path.StartsWith(folder + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
    }

    /// <summary>Deletes every session the host knows, so upstream's page opens at step 1 with nothing to restore.</summary>
    public static async Task ForgetAllSessionsAsync(HttpClient http)
    {
        foreach (var session in JsonNode.Parse(await http.GetStringAsync("api/ingest/sessions?limit=1000"))!.AsArray())
        {
            var id = session!["session_id"]!.GetValue<string>();
            if (session["status"]?.GetValue<string>() is "starting" or "processing")
            {
                using (await http.PostAsync($"api/ingest/cancel/{id}", null))
                {
                }

                await new IngestClient(http).WaitForEndAsync(id, TimeSpan.FromSeconds(15));
            }

            using var deleted = await http.DeleteAsync($"api/ingest/session/{id}");
            Assert.That((int)deleted.StatusCode, Is.LessThan(300), $"DELETE api/ingest/session/{id} before the test: {await deleted.Content.ReadAsStringAsync()}");
        }

        var active = JsonNode.Parse(await http.GetStringAsync("api/ingest/active-session"))!;
        Assert.That(active["session_id"]?.GetValue<string>(), Is.Null, $"after deleting every session, active-session still answers {active.ToJsonString()}");
    }
}
