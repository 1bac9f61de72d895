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
    IOptions<NodeOptions> node,
    WatchClaims claims,
    JobStorage storage,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    /// <summary>With several nodes: how often a job node looks for watches no node runs (one added elsewhere, or a dead node's).</summary>
    internal static readonly TimeSpan LookForWatches = TimeSpan.FromSeconds(5);

    private const string WatchesChanged = "watches";
    private const string Unwatch = "unwatch";

    private readonly ConcurrentDictionary<string, FolderWatch> _watches = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly ILogger _logger = loggers.CreateLogger<WatchService>();
    private readonly CancellationTokenSource _stopping = new();
    private Task _looking = Task.CompletedTask;

    private PostgresProgressRegistry? Shared => registry as PostgresProgressRegistry;

    /// <summary>The live progress of a watch's session, which its batch jobs report through; null for any other session.</summary>
    public SessionProgress? ProgressOf(string sessionId) => _watches.Values.FirstOrDefault(w => w.Watch.SessionId == sessionId)?.Progress;

    internal FolderWatch? Find(string watchId) => _watches.GetValueOrDefault(watchId);

    /// <summary>Every watch, on whichever node it runs (the counters of a watch run elsewhere are its node's: 0 here).</summary>
    public async Task<IReadOnlyList<WatchInfo>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await store.ListAsync(cancellationToken)).OrderBy(w => w.CreatedAt).ThenBy(w => w.Id, StringComparer.Ordinal)
            .Select(w => _watches.TryGetValue(w.Id, out var running) ? Info(running) : Info(w))];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Shared is { } shared)
        {
            shared.Signal += OnSignal;
        }

        await TakeWatchesAsync(cancellationToken);
        foreach (var folder in options.Value.Folders)
        {
            var parameters = new IngestParameters { Directory = folder.Directory, Pattern = folder.Pattern, Recursive = folder.Recursive };
            var (_, error) = await CreateAsync(parameters, cancellationToken);
            if (error is not null && error.Field != "directory_watched")
            {
                LogStartupWatchRefused(_logger, folder.Directory, error.Reason);
            }
        }

        if (claims.Shared && node.Value.RunsJobs)
        {
            _looking = LookForWatchesAsync(_stopping.Token);
        }
    }

    /// <summary>
    /// Starts the stored watches no node runs, on a node that runs jobs (and, with several nodes, that wins the watch's
    /// claim); stops those no longer stored (removed on another node). A node that lost its claims lets its watches go first.
    /// </summary>
    internal async Task TakeWatchesAsync(CancellationToken cancellationToken)
    {
        if (!node.Value.RunsJobs)
        {
            return;
        }

        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (!await claims.HoldAsync(cancellationToken))
            {
                LogClaimsLost(_logger, _watches.Count);
                foreach (var id in _watches.Keys.ToList())
                {
                    await LetGoAsync(id);
                }
            }

            var stored = await store.ListAsync(cancellationToken);
            foreach (var watch in stored.Where(w => !_watches.ContainsKey(w.Id)))
            {
                if (await claims.TryClaimAsync(watch.Id, cancellationToken))
                {
                    await StartWatchAsync(watch, cancellationToken);
                }
            }

            foreach (var id in _watches.Keys.Where(id => stored.All(w => w.Id != id)).ToList())
            {
                await LetGoAsync(id);
                await claims.ReleaseAsync(id, cancellationToken);
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Stops running a watch here without ending its session (another node runs it, or it was removed there).</summary>
    private async Task LetGoAsync(string id)
    {
        if (_watches.TryRemove(id, out var watch))
        {
            await watch.DisposeAsync();
        }
    }

    private async Task LookForWatchesAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(LookForWatches, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await TakeWatchesAsync(stopping);
                    if (Shared is { } shared)
                    {
                        ClearDeadQueues(await shared.LapsedNodesAsync(stopping));
                    }
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or CatalogException or TimeoutException)
                {
                    LogLookFailed(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Deletes the batches still enqueued on the own queues of nodes whose lease lapsed: no server takes them any more
    /// (a node's name is new at each start), and the node that took over the watch takes their files with its next batch.
    /// A batch a dead node was running comes back to its queue once Hangfire's invisibility timeout ends, and goes then.
    /// </summary>
    private void ClearDeadQueues(IReadOnlyList<string> lapsed)
    {
        var monitoring = storage.GetMonitoringApi();
        foreach (var queue in lapsed.Select(NodeOptions.QueueOf))
        {
            var deleted = monitoring.EnqueuedJobs(queue, 0, 1000).Count(job => jobs.Delete(job.Key));
            if (deleted > 0)
            {
                LogDeadQueueCleared(_logger, deleted, queue);
            }
        }
    }

    /// <summary>Another node added or removed a watch, or asks the node that runs one to stop it.</summary>
    private void OnSignal(string command, string argument)
    {
        if (command == WatchesChanged && node.Value.RunsJobs)
        {
            _ = Task.Run(() => TakeWatchesAsync(_stopping.Token));
        }
        else if (command == Unwatch && _watches.ContainsKey(argument))
        {
            _ = Task.Run(() => DeleteAsync(argument, _stopping.Token));
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
            if ((await store.ListAsync(cancellationToken)).FirstOrDefault(w => w.Directory == directory) is { } existing)
            {
                return (null, new InputError("directory_watched", $"'{parameters.Directory}' is already watched (watch {existing.Id})"));
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
            LogWatchAdded(_logger, id, directory);

            // Here if this node runs jobs (and wins the claim), else on a node that does, told now.
            if (node.Value.RunsJobs && await claims.TryClaimAsync(id, cancellationToken))
            {
                return (Info(await StartWatchAsync(watch, cancellationToken)), null);
            }

            Shared?.SendSignal(WatchesChanged, id);
            return (Info(watch), null);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Stops a watch: its session ends <c>cancelled</c> (its files stay in the catalog) and it is forgotten. False when unknown.</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (_watches.TryRemove(id, out var watch))
        {
            await watch.DisposeAsync();
            control.Cancel(watch.Watch.SessionId);
            var last = watch.Progress.Finish(SessionStatus.Cancelled, "the watch was removed");
            await sessions.SaveSnapshotAsync(last, cancellationToken);
            await store.DeleteAsync(id, cancellationToken);
            await claims.ReleaseAsync(id, cancellationToken);
            LogWatchRemoved(_logger, id);
            return true;
        }

        if ((await store.ListAsync(cancellationToken)).FirstOrDefault(w => w.Id == id) is not { } stored)
        {
            return false;
        }

        // Run by another node: that node ends it (its session's progress is there), asked over the backplane.
        if (claims.Shared && !await claims.TryClaimAsync(id, cancellationToken))
        {
            Shared?.SendSignal(Unwatch, id);
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            patience.CancelAfter(TimeSpan.FromSeconds(10));
            while ((await store.ListAsync(patience.Token)).Any(w => w.Id == id))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, patience.Token);
            }

            return true;
        }

        // Run by no node (none runs jobs, or this one was about to take it): ended here.
        control.Cancel(stored.SessionId);
        if ((registry.Get(stored.SessionId)?.Snapshot ?? (await sessions.GetSessionAsync(stored.SessionId, cancellationToken))?.Snapshot) is { } snapshot)
        {
            var progress = new SessionProgress(snapshot, registry, time, marks);
            await sessions.SaveSnapshotAsync(progress.Finish(SessionStatus.Cancelled, "the watch was removed"), cancellationToken);
        }

        await store.DeleteAsync(id, cancellationToken);
        await claims.ReleaseAsync(id, cancellationToken);
        Shared?.SendSignal(WatchesChanged, id);
        LogWatchRemoved(_logger, id);
        return true;
    }

    /// <summary>
    /// A cancel or delete of a watch's session (the page's Cancel button, <c>POST /api/ingest/cancel</c>) stops its
    /// watch: otherwise the watch would go on filling a session its user ended. False for any other session.
    /// </summary>
    public async Task<bool> StopSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        (_watches.Values.FirstOrDefault(w => w.Watch.SessionId == sessionId)?.Watch
            ?? (await store.ListAsync(cancellationToken)).FirstOrDefault(w => w.SessionId == sessionId)) is { } watch
        && await DeleteAsync(watch.Id, cancellationToken);

    private async Task<FolderWatch> StartWatchAsync(WatchRecord watch, CancellationToken cancellationToken)
    {
        var parameters = JsonSerializer.Deserialize<IngestParameters>(watch.ParametersJson, ProgressWire.Options)!;
        FilePattern.TryParse(parameters.Pattern, out var pattern, out _);
        var snapshot = registry.Get(watch.SessionId)?.Snapshot ?? (await sessions.GetSessionAsync(watch.SessionId, cancellationToken))?.Snapshot
            ?? throw new InvalidOperationException($"watch {watch.Id} has no session {watch.SessionId}");
        var progress = new SessionProgress(snapshot with { Status = SessionStatus.Watching, EndTime = null }, registry, time, marks);
        var folder = new FolderWatch(watch, parameters, pattern, progress, root, sessions, media, jobs, node.Value.Queue, control, events, options.Value, time,
            loggers.CreateLogger<FolderWatch>());
        _watches[watch.Id] = folder;
        folder.Start();
        return folder;
    }

    private WatchInfo Info(WatchRecord w)
    {
        var parameters = JsonSerializer.Deserialize<IngestParameters>(w.ParametersJson, ProgressWire.Options)!;
        var snapshot = registry.Get(w.SessionId)?.Snapshot;
        return new(w.Id, w.SessionId, w.Directory, parameters.Pattern ?? FilePattern.Default, parameters.Recursive, w.CreatedAt, snapshot?.Message, 0, 0, snapshot);
    }

    private static WatchInfo Info(FolderWatch w) =>
        new(w.Watch.Id, w.Watch.SessionId, w.Watch.Directory, w.Parameters.Pattern ?? FilePattern.Default, w.Parameters.Recursive, w.Watch.CreatedAt, w.Mode,
            w.Bursts, w.PeakQueued, w.Progress.Current);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Shared is { } shared)
        {
            shared.Signal -= OnSignal;
        }

        await _stopping.CancelAsync();
        await _looking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch {WatchId} added for '{Directory}'")]
    private static partial void LogWatchAdded(ILogger logger, string watchId, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch {WatchId} removed")]
    private static partial void LogWatchRemoved(ILogger logger, string watchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node lost its claims on the watches it ran ({Count}): it lets them go, and takes what it can again")]
    private static partial void LogClaimsLost(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} watch batches left on {Queue}, the queue of a node whose lease lapsed")]
    private static partial void LogDeadQueueCleared(ILogger logger, int count, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not look for watches no node runs: {Reason}")]
    private static partial void LogLookFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The start-up watch of '{Directory}' was refused: {Reason}")]
    private static partial void LogStartupWatchRefused(ILogger logger, string directory, string reason);
}
