using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>
/// Base of the tests that talk to the shared host: a real-socket client, API helpers, a fresh media
/// folder per test, and any run-time setting a test changed put back afterwards.
/// </summary>
public abstract class ApiTest
{
    private readonly Dictionary<string, string?> _changed = [];

    protected static AppHost App => TestSuite.App;

    protected HttpClient Http { get; private set; } = null!;

    protected IngestClient Api { get; private set; } = null!;

    /// <summary>This test's own folder under the media root (root-relative).</summary>
    protected string Folder { get; private set; } = null!;

    protected string FolderPath => Path.Combine(App.MediaRoot, Folder);

    [SetUp]
    public void CreateClientAndFolder()
    {
        Http = App.CreateRealClient();
        Api = new IngestClient(Http);
        Folder = GetType().Name[..1].ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(FolderPath);
    }

    [TearDown]
    public void RestoreSettingsAndDispose()
    {
        foreach (var (key, value) in _changed)
        {
            App.SetSetting(key, value);
        }

        _changed.Clear();
        App.Gate.Open();
        Http.Dispose();
    }

    /// <summary>Holds every run at the gate after <paramref name="files"/> more files have started (see <see cref="TestGate"/>).</summary>
    protected static void HoldAfter(int files)
    {
        App.Gate.Hold();
        App.Gate.Release(files);
    }

    /// <summary>Changes a setting for this test only; <paramref name="restore"/> is put back afterwards.</summary>
    protected void Set(string key, string? value, string? restore = null)
    {
        _changed.TryAdd(key, restore);
        App.SetSetting(key, value);
    }
}
