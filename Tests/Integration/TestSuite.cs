using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>One app host for the whole run, on Kestrel, with a temporary media root and catalog.</summary>
[SetUpFixture]
public sealed class TestSuite
{
    private static AppHost? _app;

    public static AppHost App => _app ?? throw new InvalidOperationException("The test host has not started.");

    [OneTimeSetUp]
    public void StartHost()
    {
        var work = Path.Combine(Path.GetTempPath(), "ingestlite-tests-" + Guid.NewGuid().ToString("N")[..8]);
        _app = new AppHost(work, new Dictionary<string, string?>
        {
            ["Stream:HeartbeatInterval"] = "00:00:00.500",
            ["Stream:MaxStreams"] = "150",
            // Watches settle files fast in tests; a reconcile every 2 s also bounds how long a missed event can hide a file.
            ["Watch:StabilityPeriod"] = "00:00:00.300",
            ["Watch:LookInterval"] = "00:00:00.050",
            ["Watch:ReconcileInterval"] = "00:00:02",
        }).Start();
    }

    [OneTimeTearDown]
    public void StopHost()
    {
        if (_app is null)
        {
            return;
        }

        var work = _app.WorkDirectory;
        _app.Dispose();
        _app = null;
        TryDelete(work);
    }

    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
