namespace IngestLite.Jobs.Watching;

/// <summary>File events of one watched folder: paths are full paths.</summary>
public interface IFolderEvents : IDisposable
{
    /// <summary>A file appeared or changed.</summary>
    event Action<string>? Changed;

    /// <summary>A file was renamed or moved within the folder: old path, new path.</summary>
    event Action<string, string>? Renamed;

    /// <summary>A file or folder went away.</summary>
    event Action<string>? Deleted;

    /// <summary>Events were lost (a buffer overflow) or the watch broke (its folder removed): rescan.</summary>
    event Action<Exception>? Failed;
}

/// <summary>Makes the event source of a folder; throws when the system refuses one (the inotify limit).</summary>
public interface IFolderEventsFactory
{
    IFolderEvents Create(string fullPath, bool recursive);
}

/// <summary>
/// <see cref="FileSystemWatcher"/>, one per watched folder (on Linux one inotify instance each; the default limit is
/// 128 per user, and a refusal here makes the watch fall back to reconciling).
/// </summary>
public sealed class FileSystemFolderEventsFactory : IFolderEventsFactory
{
    public IFolderEvents Create(string fullPath, bool recursive) => new Watcher(fullPath, recursive);

    private sealed class Watcher : IFolderEvents
    {
        private readonly FileSystemWatcher _watcher;

        public Watcher(string fullPath, bool recursive)
        {
            _watcher = new FileSystemWatcher(fullPath)
            {
                IncludeSubdirectories = recursive,
                InternalBufferSize = 64 * 1024,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            _watcher.Created += (_, e) => Changed?.Invoke(e.FullPath);
            _watcher.Changed += (_, e) => Changed?.Invoke(e.FullPath);
            _watcher.Renamed += (_, e) => Renamed?.Invoke(e.OldFullPath, e.FullPath);
            _watcher.Deleted += (_, e) => Deleted?.Invoke(e.FullPath);
            _watcher.Error += (_, e) => Failed?.Invoke(e.GetException());
            try
            {
                _watcher.EnableRaisingEvents = true;
            }
            catch
            {
                _watcher.Dispose();
                throw;
            }
        }

        public event Action<string>? Changed;

        public event Action<string, string>? Renamed;

        public event Action<string>? Deleted;

        public event Action<Exception>? Failed;

        public void Dispose() => _watcher.Dispose();
    }
}
