using System.Collections.Concurrent;
using System.Text.Json;
using Hangfire;
using IngestLite.Catalog;
using IngestLite.Progress;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs.Watching;

/// <summary>What <c>GET /api/watch</c> lists for each watch.</summary>
public sealed record WatchInfo(
    string WatchId, string SessionId, string Directory, string Pattern, bool Recursive, DateTimeOffset CreatedAt, string? Mode, int Bursts, int PeakQueuedEvents, ProgressSnapshot? Snapshot);

/// <summary>
/// The watched folders. A hosted service keeps one <see cref="FolderWatch"/> per watch, which detects complete files
/// and enqueues one Hangfire ingest job per batch on the watch's session (status <c>watching</c>). Why batches and
/// not one job per watch: a job per watch would hold a Hangfire worker for as long as the watch lasts (four watches
/// would leave no worker for ingests), while a batch job is an ordinary job: it shows in the dashboard, is retried
/// and resumed as any ingest is, and can run on any worker node. Watches are kept in the catalog and restart with
/// the app; <see cref="WatchOptions.Folders"/> (<c>Ingest:Watch</c>) adds watches at start-up.
/// </summary>
public sealed partial class WatchService(
    WatchStore store,
    ISessionStore sessions,
    IMediaCatalog media,
    IProgressRegistry registry,
    ICounterMarks marks,
    IBackgroundJobClient jobs,
    SessionControl control,
    IngestSessions launcher,
    MediaRoot root,
    IFolderEventsFactory events,
    IOptions<WatchOptions> options,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, FolderWatch> _watches = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly ILogger _logger = loggers.CreateLogger<WatchService>();

    /// <summary>The live progress of a watch's session, which its batch jobs report through; null for any other session.</summary>
    public SessionProgress? ProgressOf(string sessionId) => _watches.Values.FirstOrDefault(w => w.Watch.SessionId == sessionId)?.Progress;

    internal FolderWatch? Find(string watchId) => _watches.GetValueOrDefault(watchId);

    public IReadOnlyList<WatchInfo> List() =>
        [.. _watches.Values.OrderBy(w => w.Watch.CreatedAt).ThenBy(w => w.Watch.Id, StringComparer.Ordinal).Select(Info)];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var watch in await store.ListAsync(cancellationToken))
        {
            await StartWatchAsync(watch, cancellationToken);
        }

        foreach (var folder in options.Value.Folders)
        {
            var parameters = new IngestParameters { Directory = folder.Directory, Pattern = folder.Pattern, Recursive = folder.Recursive };
            var (_, error) = await CreateAsync(parameters, cancellationToken);
            if (error is not null && error.Field != "directory_watched")
            {
                LogStartupWatchRefused(_logger, folder.Directory, error.Reason);
            }
        }
    }

    /// <summary>Starts watching a folder (one, root-relative) with an ingest's options: its new session is <c>watching</c>.</summary>
    public async Task<(WatchInfo? Watch, InputError? Error)> CreateAsync(IngestParameters parameters, CancellationToken cancellationToken)
    {
        if (parameters.Directories is { Count: > 0 })
        {
            return (null, new InputError("directories", "a watch follows one folder: give it as 'directory'"));
        }

        var (directories, error) = launcher.Validate(parameters with { MaxFiles = null }, out var pattern);
        if (error is not null)
        {
            return (null, error);
        }

        if (parameters.CommitMode == CommitMode.Deferred)
        {
            return (null, new InputError("commit_mode", "a watch commits each file as it arrives ('per_file')"));
        }

        await _changes.WaitAsync(cancellationToken);
        try
        {
            var directory = root.ToRelative(directories[0]);
            if (_watches.Values.FirstOrDefault(w => w.Watch.Directory == directory) is { } existing)
            {
                return (null, new InputError("directory_watched", $"'{parameters.Directory}' is already watched (watch {existing.Watch.Id})"));
            }

            var id = Guid.CreateVersion7().ToString("N");
            var sessionId = Guid.CreateVersion7().ToString("N");
            var now = time.GetUtcNow();
            var stored = parameters with { Directory = directory, MaxFiles = null, SkipExisting = true, CommitMode = CommitMode.PerFile, Pattern = pattern.Text };
            var json = JsonSerializer.Serialize(stored, ProgressWire.Options);
            var initial = new ProgressSnapshot(sessionId, SessionStatus.Watching, 0, 0, null, null, 0, now, null, SessionStats.Empty, [], [], 0, now, 0, null,
                Message: "starting to watch", CommitMode: CommitMode.PerFile);
            await sessions.CreateSessionAsync(new SessionRecord(sessionId, json, SessionStatus.Watching.ToWire(), now, StoredSnapshot.ToText(initial), null),
                new DiscoveryResult([], [], []), cancellationToken);
            var watch = new WatchRecord(id, sessionId, directory, json, now);
            await store.AddAsync(watch, cancellationToken);
            registry.Publish(initial);
            var started = await StartWatchAsync(watch, cancellationToken);
            LogWatchAdded(_logger, id, directory);
            return (Info(started), null);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Stops a watch: its session ends <c>cancelled</c> (its files stay in the catalog) and it is forgotten. False when unknown.</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!_watches.TryRemove(id, out var watch))
        {
            return false;
        }

        await watch.DisposeAsync();
        control.Cancel(watch.Watch.SessionId);
        var last = watch.Progress.Finish(SessionStatus.Cancelled, "the watch was removed");
        await sessions.SaveSnapshotAsync(last, cancellationToken);
        await store.DeleteAsync(id, cancellationToken);
        LogWatchRemoved(_logger, id);
        return true;
    }

    /// <summary>
    /// A cancel or delete of a watch's session (the page's Cancel button, <c>POST /api/ingest/cancel</c>) stops its
    /// watch: otherwise the watch would go on filling a session its user ended. False for any other session.
    /// </summary>
    public async Task<bool> StopSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        _watches.Values.FirstOrDefault(w => w.Watch.SessionId == sessionId) is { } watch && await DeleteAsync(watch.Watch.Id, cancellationToken);

    private async Task<FolderWatch> StartWatchAsync(WatchRecord watch, CancellationToken cancellationToken)
    {
        var parameters = JsonSerializer.Deserialize<IngestParameters>(watch.ParametersJson, ProgressWire.Options)!;
        FilePattern.TryParse(parameters.Pattern, out var pattern, out _);
        var snapshot = registry.Get(watch.SessionId)?.Snapshot ?? (await sessions.GetSessionAsync(watch.SessionId, cancellationToken))?.Snapshot
            ?? throw new InvalidOperationException($"watch {watch.Id} has no session {watch.SessionId}");
        var progress = new SessionProgress(snapshot with { Status = SessionStatus.Watching, EndTime = null }, registry, time, marks);
        var folder = new FolderWatch(watch, parameters, pattern, progress, root, sessions, media, jobs, control, events, options.Value, time,
            loggers.CreateLogger<FolderWatch>());
        _watches[watch.Id] = folder;
        folder.Start();
        return folder;
    }

    private static WatchInfo Info(FolderWatch w) =>
        new(w.Watch.Id, w.Watch.SessionId, w.Watch.Directory, w.Parameters.Pattern ?? FilePattern.Default, w.Parameters.Recursive, w.Watch.CreatedAt, w.Mode,
            w.Bursts, w.PeakQueued, w.Progress.Current);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var watch in _watches.Values)
        {
            await watch.DisposeAsync();
            await sessions.SaveSnapshotAsync(watch.Progress.Current, CancellationToken.None);
        }

        _watches.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var watch in _watches.Values)
        {
            await watch.DisposeAsync();
        }

        _changes.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch {WatchId} added for '{Directory}'")]
    private static partial void LogWatchAdded(ILogger logger, string watchId, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch {WatchId} removed")]
    private static partial void LogWatchRemoved(ILogger logger, string watchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The start-up watch of '{Directory}' was refused: {Reason}")]
    private static partial void LogStartupWatchRefused(ILogger logger, string directory, string reason);
}
