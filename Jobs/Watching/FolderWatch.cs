using System.Collections.Concurrent;
using Hangfire;
using IngestLite.Catalog;
using IngestLite.Progress;

namespace IngestLite.Jobs.Watching;

/// <summary>
/// One watched folder: its file events (or none, on a network mount or past the inotify limit), the files waiting
/// to be complete, and a reconcile with the catalog at start and every <see cref="WatchOptions.ReconcileInterval"/>.
/// A file is handed to the session once its size and modification time have held still for
/// <see cref="WatchOptions.StabilityPeriod"/>; a batch of such files becomes one ingest job on the watch's session.
/// Temporary names (<c>*.tmp</c>, <c>*.part</c>) and dotfiles are never taken.
/// </summary>
public sealed partial class FolderWatch(
    WatchRecord watch,
    IngestParameters parameters,
    FilePattern pattern,
    SessionProgress progress,
    MediaRoot root,
    ISessionStore sessions,
    IMediaCatalog media,
    IBackgroundJobClient jobs,
    string queue,
    SessionControl control,
    IFolderEventsFactory events,
    WatchOptions options,
    TimeProvider time,
    ILogger logger) : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _changed = new();
    private readonly ConcurrentQueue<string> _deleted = new();
    private readonly ConcurrentQueue<(string From, string To)> _renamed = new();
    private readonly Dictionary<string, Waiting> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Size, long Mtime)> _handedOver = new(StringComparer.Ordinal);
    private readonly HashSet<string> _problems = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _fullPath = root.ToFull(watch.Directory);
    private IFolderEvents? _source;
    private volatile bool _rescan = true;
    private volatile string? _eventsRefused;
    private int _eventCount;
    private int _bursts;
    private int _peakQueued;
    private int _remembered;
    private bool _jobWanted;
    private long _lastReconcile;
    private bool _reconciled;
    private string? _mode;
    private Task? _loop;

    public WatchRecord Watch => watch;

    public SessionProgress Progress => progress;

    /// <summary>How the folder is followed right now (events and reconcile, reconcile only and why, or missing).</summary>
    public string? Mode => _mode;

    /// <summary>How many bursts of events were collapsed into a rescan.</summary>
    public int Bursts => Volatile.Read(ref _bursts);

    /// <summary>The most events ever waiting between two looks: bounded by <see cref="WatchOptions.BurstLimit"/>, whatever arrives.</summary>
    public int PeakQueued => Volatile.Read(ref _peakQueued);

    /// <summary>Files this watch holds in memory (waiting, or handed over and not yet seen committed): drops back to zero once they are catalogued.</summary>
    internal int Remembered => Volatile.Read(ref _remembered);

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    private sealed class Waiting(long size, long mtime, long since)
    {
        public long Size { get; set; } = size;

        public long Mtime { get; set; } = mtime;

        public long StillSince { get; set; } = since;

        public long FirstSeen { get; } = since;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await LookAsync(cancellationToken);
                await Task.Delay(options.LookInterval, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A watch never dies of one bad look: it says so and tries again.
                LogLookFailed(logger, watch.Id, ex);
                SetMode($"watching, but the last look failed: {ex.Message}");
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task LookAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_fullPath))
        {
            // Removed or unmounted: nothing is marked gone; the watch waits for the folder to return.
            DropSource();
            _rescan = true;
            SetMode("the watched folder is missing; waiting for it to return");
            return;
        }

        if (_eventsRefused is { } refused)
        {
            // Some folders could not be watched (the inotify watch limit): events alone would miss their files.
            _eventsRefused = null;
            DropSource();
            _rescan = true;
            SetMode(ReconcileOnly($"file events are unavailable ({refused})"));
        }

        EnsureSource();
        var now = time.GetTimestamp();
        var queued = _changed.Count + _renamed.Count + _deleted.Count;
        _peakQueued = Math.Max(_peakQueued, queued);
        if (Interlocked.Exchange(ref _eventCount, 0) > options.BurstLimit)
        {
            Interlocked.Increment(ref _bursts);
            // A burst (thousands of files dropped at once) is one rescan, not thousands of stats.
            _changed.Clear();
            _renamed.Clear();
            _deleted.Clear();
            _rescan = true;
        }

        while (_changed.TryDequeue(out var path))
        {
            Consider(path, now);
        }

        await FollowRenamesAsync(now, cancellationToken);
        var gone = new List<string>();
        while (_deleted.TryDequeue(out var path))
        {
            // Gone for good unless it is back by now (an editor's save-by-replace, or a rename's other half).
            if (!File.Exists(path) && !Directory.Exists(path) && root.ToRelative(path) is var relative)
            {
                gone.Add(relative);
                _waiting.Remove(relative);
                _handedOver.Remove(relative);
            }
        }

        if (gone.Count > 0)
        {
            await media.MarkMissingAsync(gone, cancellationToken);
        }

        if (_rescan || !_reconciled || time.GetElapsedTime(_lastReconcile, now) >= options.ReconcileInterval)
        {
            _rescan = false;
            _reconciled = true;
            _lastReconcile = now;
            await ReconcileAsync(now, cancellationToken);
        }

        var ready = TakeReady(now);
        if (ready.Count > 0)
        {
            await sessions.AppendFilesAsync(watch.SessionId, ready, cancellationToken);
            progress.AddFiles(ready.Count);
            _jobWanted = true;
        }

        Volatile.Write(ref _remembered, _waiting.Count + _handedOver.Count);
        if (_jobWanted && !control.IsRunning(watch.SessionId))
        {
            _jobWanted = false;
            jobs.Create<IngestJob>(
                job => job.RunAsync(watch.SessionId, $"watch of {(watch.Directory.Length == 0 ? "/" : watch.Directory)}", null, CancellationToken.None),
                new Hangfire.States.EnqueuedState(queue));
        }
    }

    /// <summary>Every file of the folder the catalog lacks or holds at another size or date, and not handed over as it is now.</summary>
    private async Task ReconcileAsync(long now, CancellationToken cancellationToken)
    {
        var found = await Task.Run(() =>
        {
            using var known = media.OpenKnownFiles();
            return FileDiscovery.Discover(root, [_fullPath], pattern, parameters.Recursive, null, known.Unchanged, cancellationToken);
        }, cancellationToken);
        foreach (var file in found.Files)
        {
            Consider(root.ToFull(file.Path), now);
        }

        // Committed as they are: no longer this watch's to remember (a watch that runs for months must not keep every path).
        foreach (var file in found.Skipped)
        {
            _handedOver.Remove(file.Path);
        }

        // A folder the app may not list (permissions) is an error of the session, said once, and again if it comes back after being fixed.
        var problems = found.Problems.Select(p => $"{p.Path}\n{p.Message}").ToHashSet(StringComparer.Ordinal);
        foreach (var problem in found.Problems.Where(p => !_problems.Contains($"{p.Path}\n{p.Message}")))
        {
            progress.AddError(new FileError(problem.Path, "discover", problem.Message, time.GetUtcNow()));
        }

        _problems.Clear();
        _problems.UnionWith(problems);

        // What the catalog holds here but the disk does not: missing (only while the folder itself is there).
        var onDisk = found.Files.Concat(found.Skipped).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var unlisted = found.Problems.Select(p => p.Path + "/").ToList();
        var gone = (await media.PresentPathsAsync(watch.Directory, parameters.Recursive, cancellationToken))
            .Where(path => !onDisk.Contains(path) && pattern.IsMatch(Path.GetFileName(path)) && !IsTemporary(path) &&
                !unlisted.Any(folder => path.StartsWith(folder, StringComparison.Ordinal))).ToList();
        if (gone.Count > 0 && Directory.Exists(_fullPath))
        {
            await media.MarkMissingAsync(gone, cancellationToken);
        }
    }

    /// <summary>
    /// A rename within the folder moves the catalog's rows (a file keeps its id and score); a rename from a temporary
    /// name is a new file arriving; to a temporary or foreign name, the file has gone.
    /// </summary>
    private async Task FollowRenamesAsync(long now, CancellationToken cancellationToken)
    {
        while (_renamed.TryDequeue(out var rename))
        {
            var (from, to) = (root.ToRelative(rename.From), root.ToRelative(rename.To));
            var kept = Directory.Exists(rename.To) || (pattern.IsMatch(Path.GetFileName(to)) && !IsTemporary(to));
            if (kept && await media.MoveAsync(from, to, cancellationToken) > 0)
            {
                if (_handedOver.Remove(from, out var handed))
                {
                    _handedOver[to] = handed;
                }

                if (Directory.Exists(rename.To))
                {
                    _rescan = true;
                }

                continue;
            }

            if (!kept)
            {
                _deleted.Enqueue(rename.From);
            }

            Consider(rename.To, now);
        }
    }

    private void Consider(string fullPath, long now)
    {
        var name = Path.GetFileName(fullPath);
        if (name.Length == 0 || !pattern.IsMatch(name) || !root.Contains(fullPath) || IsTemporary(root.ToRelative(fullPath)))
        {
            return;
        }

        var info = new FileInfo(fullPath);
        if (!info.Exists)
        {
            if (Directory.Exists(fullPath))
            {
                // A folder arrived (moved in, or restored): its files come with a rescan.
                _rescan = true;
            }

            return;
        }

        var relative = root.ToRelative(fullPath);
        var size = info.Length;
        var mtime = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero).ToUnixTimeMilliseconds();
        if (_handedOver.TryGetValue(relative, out var handed) && handed == (size, mtime))
        {
            return;
        }

        if (!_waiting.ContainsKey(relative))
        {
            _waiting[relative] = new Waiting(size, mtime, now);
        }
    }

    /// <summary>The waiting files that held still long enough, or waited too long; the others are stat'ed again.</summary>
    private List<DiscoveredFile> TakeReady(long now)
    {
        var ready = new List<DiscoveredFile>();
        foreach (var (relative, waiting) in _waiting.ToList())
        {
            var info = new FileInfo(root.ToFull(relative));
            if (!info.Exists)
            {
                _waiting.Remove(relative);
                continue;
            }

            var size = info.Length;
            var mtime = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero).ToUnixTimeMilliseconds();
            if (size != waiting.Size || mtime != waiting.Mtime)
            {
                (waiting.Size, waiting.Mtime, waiting.StillSince) = (size, mtime, now);
            }

            var still = time.GetElapsedTime(waiting.StillSince, now) >= options.StabilityPeriod;
            if (still || time.GetElapsedTime(waiting.FirstSeen, now) >= options.MaxGrowthWait)
            {
                if (!still)
                {
                    // Growing past the cap (a recording, or a writer that never closes): tried as it stands, said why,
                    // and taken again once it holds still.
                    progress.AddError(new FileError(relative, "watch",
                        $"still being written after {Describe(options.MaxGrowthWait)} (Watch:MaxGrowthWait): tried as it stood at {size} bytes, and taken again once it holds still",
                        time.GetUtcNow()));
                }

                _waiting.Remove(relative);
                _handedOver[relative] = (size, mtime);
                ready.Add(new DiscoveredFile(relative, size, DateTimeOffset.FromUnixTimeMilliseconds(mtime)));
            }
        }

        if (ready.Count > 0)
        {
            // A late event of a file already committed as it is (the catalog knows it) is not a new file.
            using var known = media.OpenKnownFiles();
            var unchanged = known.Unchanged(ready);
            ready.RemoveAll(f => unchanged.Contains(f.Path));
        }

        ready.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return ready;
    }

    /// <summary>
    /// Names that writers use while a file is unfinished, and hidden files and folders, for a root-relative path (so a
    /// media root that itself lies under a dot-folder is not hidden).
    /// </summary>
    public static bool IsTemporary(string relativePath)
    {
        var name = Path.GetFileName(relativePath);
        return name.StartsWith('.') || name.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".part", StringComparison.OrdinalIgnoreCase) ||
            relativePath.StartsWith('.') || relativePath.Contains("/.", StringComparison.Ordinal);
    }

    public IngestParameters Parameters => parameters;

    private void EnsureSource()
    {
        if (_source is not null || _mode?.StartsWith("reconcile only", StringComparison.Ordinal) == true)
        {
            return;
        }

        if (NetworkMounts.FileSystemOf(_fullPath) is { } network)
        {
            SetMode(ReconcileOnly($"the folder is on a network file system ({network}), where file events do not arrive"));
            return;
        }

        try
        {
            var source = events.Create(_fullPath, parameters.Recursive);
            source.Changed += path => Enqueue(path);
            source.Renamed += (from, to) =>
            {
                if (Interlocked.Increment(ref _eventCount) <= options.BurstLimit)
                {
                    _renamed.Enqueue((from, to));
                }
            };
            source.Deleted += path =>
            {
                if (Interlocked.Increment(ref _eventCount) <= options.BurstLimit)
                {
                    _deleted.Enqueue(path);
                }
            };
            source.Failed += ex =>
            {
                LogEventsLost(logger, watch.Id, ex.Message);
                if (IsWatchLimit(ex))
                {
                    _eventsRefused = ex.Message;
                }

                _rescan = true;
            };
            _source = source;
            _rescan = true;
            SetMode($"watching: file events, and a reconcile every {options.ReconcileInterval.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // Past the inotify instance limit (or no watcher on this system): reconciling still finds every file, later.
            SetMode(ReconcileOnly($"file events are unavailable ({ex.Message})"));
        }
    }

    private string ReconcileOnly(string why) => $"reconcile only, every {Describe(options.ReconcileInterval)}: {why}";

    private static string Describe(TimeSpan span) =>
        span.TotalSeconds < 60 ? $"{span.TotalSeconds:0.#} s" : span.TotalMinutes < 60 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalHours:0.#} h";

    /// <summary>
    /// The system's limit on inotify watches (fs.inotify.max_user_watches) was reached while .NET watched the
    /// sub-folders: its watcher raises an IOException whose HResult is ENOSPC and goes on without those folders.
    /// </summary>
    public static bool IsWatchLimit(Exception ex) =>
        ex is IOException io && (io.HResult == 28 || io.Message.Contains("number of inotify watches", StringComparison.Ordinal));

    private void Enqueue(string path)
    {
        if (Interlocked.Increment(ref _eventCount) <= options.BurstLimit)
        {
            _changed.Enqueue(path);
        }
    }

    private void DropSource()
    {
        _source?.Dispose();
        _source = null;
        if (_mode?.StartsWith("reconcile only", StringComparison.Ordinal) == true)
        {
            _mode = null;
        }
    }

    private void SetMode(string mode)
    {
        if (_mode == mode)
        {
            return;
        }

        _mode = mode;
        progress.Idle(mode);
        LogMode(logger, watch.Id, mode);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _source?.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch {WatchId}: {Mode}")]
    private static partial void LogMode(ILogger logger, string watchId, string mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watch {WatchId} lost file events ({Reason}); rescanning")]
    private static partial void LogEventsLost(ILogger logger, string watchId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watch {WatchId}: a look at the folder failed")]
    private static partial void LogLookFailed(ILogger logger, string watchId, Exception exception);
}
