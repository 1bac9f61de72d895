using IngestLite.Jobs.Watching;

namespace IngestLite.Tests.Support;

/// <summary>
/// The app's folder events, with a switch a test controls: folders under a refused path get no events, as when the
/// system's inotify limit is reached (the same IOException .NET throws then).
/// </summary>
public sealed class TestFolderEvents : IFolderEventsFactory
{
    private readonly FileSystemFolderEventsFactory _real = new();
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    public void Refuse(string fullPath)
    {
        lock (_refused)
        {
            _refused.Add(fullPath);
        }
    }

    public IFolderEvents Create(string fullPath, bool recursive)
    {
        lock (_refused)
        {
            if (_refused.Contains(fullPath))
            {
                throw new IOException("The configured user limit (128) on the number of inotify instances has been reached, or the per-process limit on the number of open file descriptors has been reached.");
            }
        }

        return _real.Create(fullPath, recursive);
    }
}
