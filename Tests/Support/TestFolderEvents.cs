using IngestLite.Jobs.Watching;

namespace IngestLite.Tests.Support;

/// <summary>
/// The app's folder events, with switches a test controls, for the two inotify limits (with the exceptions .NET
/// gives then): folders under a refused path get no watcher (the instance limit), and a live watcher can be made to
/// report the watch limit, as .NET's does when a sub-folder cannot be watched.
/// </summary>
public sealed class TestFolderEvents : IFolderEventsFactory
{
    private readonly FileSystemFolderEventsFactory _real = new();
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Source> _live = new(StringComparer.Ordinal);

    public void Refuse(string fullPath)
    {
        lock (_refused)
        {
            _refused.Add(fullPath);
        }
    }

    /// <summary>The live watcher of <paramref name="fullPath"/> reports that the system's inotify watch limit was reached.</summary>
    public void ReachWatchLimit(string fullPath)
    {
        Source source;
        lock (_refused)
        {
            source = _live[fullPath];
        }

        source.Fail(new IOException(
            "The configured user limit (8192) on the number of inotify watches has been reached, or the operating system failed to allocate a required resource.", 28));
    }

    public IFolderEvents Create(string fullPath, bool recursive)
    {
        lock (_refused)
        {
            if (_refused.Contains(fullPath))
            {
                throw new IOException("The configured user limit (128) on the number of inotify instances has been reached, or the per-process limit on the number of open file descriptors has been reached.");
            }

            return _live[fullPath] = new Source(_real.Create(fullPath, recursive));
        }
    }

    private sealed class Source : IFolderEvents
    {
        private readonly IFolderEvents _inner;

        public Source(IFolderEvents inner)
        {
            _inner = inner;
            inner.Changed += path => Changed?.Invoke(path);
            inner.Renamed += (from, to) => Renamed?.Invoke(from, to);
            inner.Deleted += path => Deleted?.Invoke(path);
            inner.Failed += ex => Failed?.Invoke(ex);
        }

        public event Action<string>? Changed;

        public event Action<string, string>? Renamed;

        public event Action<string>? Deleted;

        public event Action<Exception>? Failed;

        public void Fail(Exception ex) => Failed?.Invoke(ex);

        public void Dispose() => _inner.Dispose();
    }
}
