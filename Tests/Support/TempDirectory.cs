namespace IngestLite.Tests.Support;

/// <summary>A fresh folder under the system temp path, deleted (links unfollowed) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "ingestlite-tests-") => FullPath = Directory.CreateTempSubdirectory(prefix).FullName;

    public string FullPath { get; }

    public string Combine(params string[] parts) => Path.Join([FullPath, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(FullPath, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone: a test may delete its own folder.
        }
    }
}
