using System.Text.Json;
using Hangfire;
using IngestLite.Catalog;
using IngestLite.Progress;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>A request the launcher refused: which field, and why.</summary>
public sealed record InputError(string Field, string Reason);

/// <summary>What <c>POST /api/ingest/process</c> answers.</summary>
public sealed record StartedSession(string SessionId, int TotalFiles, int TotalDiscovered, int SkippedExisting, string Status = "started");

/// <summary>
/// Starts, resumes, cancels and forgets sessions: validates input, discovers files up front,
/// records the session in the catalog, publishes its first snapshot and enqueues the job.
/// </summary>
public sealed partial class IngestSessions(
    ISessionStore catalog,
    IMediaCatalog media,
    IProgressRegistry registry,
    IBackgroundJobClient jobs,
    MediaRoot root,
    SessionControl control,
    IOptionsMonitor<IngestOptions> options,
    TimeProvider time,
    ILogger<IngestSessions> logger)
{
    /// <summary>Discovered files written to the catalog per transaction.</summary>
    private const int DiscoveryChunk = 10_000;

    private readonly SemaphoreSlim _commitLock = new(1, 1);

    public async Task<(StartedSession? Started, InputError? Error)> StartAsync(IngestParameters parameters, string? parentId, CancellationToken cancellationToken)
    {
        var (directories, error) = Validate(parameters, out var pattern);
        if (error is not null)
        {
            return (null, error);
        }

        // Discovery streams into the catalog a chunk at a time (the catalog keeps the order and the total), so a
        // session of a million files never holds its paths in memory. The session's row comes last, once all are found.
        var id = Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        var found = new DiscoveryCounts();
        try
        {
            await Task.Run(async () =>
            {
                using var known = parameters.SkipExisting ? media.OpenKnownFiles() : null;
                var chunk = new List<DiscoveryItem>(DiscoveryChunk);
                var place = default(DiscoveredPlace);
                foreach (var item in FileDiscovery.Enumerate(root, directories, pattern, parameters.Recursive, parameters.MaxFiles,
                    known is null ? FileDiscovery.NothingKnown : known.Unchanged, cancellationToken))
                {
                    found.Add(item);
                    chunk.Add(item);
                    if (chunk.Count == DiscoveryChunk)
                    {
                        place = await catalog.AddDiscoveredAsync(id, chunk, place, cancellationToken);
                        chunk.Clear();
                    }
                }

                await catalog.AddDiscoveredAsync(id, chunk, place, cancellationToken);
            }, cancellationToken);
        }
        catch
        {
            await catalog.DeleteSessionAsync(id, CancellationToken.None);
            throw;
        }

        InputError? nothing = found.Pending == 0 && found.Skipped == 0 && found.Problems.Count == 0
            ? new InputError("pattern", $"no files match '{pattern.Text}' in the selected folders")
            : found.Pending == 0 && found.Problems.Count == 0
            ? new InputError("skip_existing", $"nothing new to ingest: all {found.Skipped} matching files are already in the catalog")
            : null;
        if (nothing is not null)
        {
            await catalog.DeleteSessionAsync(id, CancellationToken.None);
            return (null, nothing);
        }

        return (await CreateAsync(id, parameters, found, discovered: null, parentId, cancellationToken), null);
    }

    /// <summary>A new session over exactly the files that failed in <paramref name="parentId"/>, linked to it.</summary>
    public async Task<(StartedSession? Started, InputError? Error)> RetryFailedAsync(string parentId, CancellationToken cancellationToken)
    {
        var record = await catalog.GetSessionAsync(parentId, cancellationToken);
        var failed = await catalog.QueryFileResultsAsync(parentId, new FileResultFilter(FileStates.Failed, null, 0, null), cancellationToken)
            .Where(r => r.Stage != "discover")
            .ToListAsync(cancellationToken);
        if (record is null || failed.Count == 0)
        {
            return (null, new InputError("session_id", "this session has no failed files to retry (failures to list a folder are not files; start a new session for that folder)"));
        }

        var parameters = JsonSerializer.Deserialize<IngestParameters>(record.ParametersJson, ProgressWire.Options)! with { SkipExisting = false, MaxFiles = null };
        var files = failed.Select(r =>
        {
            var info = new FileInfo(root.ToFull(r.Path));
            return info.Exists
                ? new DiscoveredFile(r.Path, info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero))
                : new DiscoveredFile(r.Path, 0, DateTimeOffset.UnixEpoch);
        }).ToList();
        var discovery = new DiscoveryResult(files, [], []);
        return (await CreateAsync(Guid.CreateVersion7().ToString("N"), parameters, DiscoveryCounts.Of(discovery), discovery, parentId, cancellationToken), null);
    }

    /// <summary>
    /// Records the session (with <paramref name="discovered"/> as its files, or with those already streamed into the
    /// catalog under <paramref name="id"/> when null), publishes its first snapshot and enqueues its job.
    /// </summary>
    private async Task<StartedSession> CreateAsync(
        string id, IngestParameters parameters, DiscoveryCounts found, DiscoveryResult? discovered, string? parentId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();

        // The mode is fixed when the session starts (a retry or resume keeps it, whatever the setting is by then).
        var mode = parameters.CommitMode ?? options.CurrentValue.CommitMode;
        parameters = parameters with { CommitMode = mode };
        var totalDiscovered = found.Pending + found.Skipped + found.ProblemCount;
        var stats = SessionStats.Empty with
        {
            TotalFiles = found.Pending,
            TotalDiscovered = totalDiscovered,
            SkippedExisting = found.Skipped,
            Errors = found.ProblemCount - found.Problems.Count,
        };
        var initial = new ProgressSnapshot(id, SessionStatus.Starting, 0, found.Pending, null, null, 0, now, null,
            stats, [], [], 0, now, 0, null, ParentSessionId: parentId, CommitMode: mode);
        var progress = new SessionProgress(initial, registry: null, time);
        foreach (var problem in found.Problems)
        {
            progress.AddError(new FileError(problem.Path, "discover", problem.Message, now));
        }

        var first = progress.Current;
        var record = new SessionRecord(id, JsonSerializer.Serialize(parameters, ProgressWire.Options), first.Status.ToWire(), now, StoredSnapshot.ToText(first), parentId);
        await (discovered is null ? catalog.CreateSessionAsync(record, cancellationToken) : catalog.CreateSessionAsync(record, discovered, cancellationToken));
        registry.Publish(first);
        var title = JobTitle(parameters, found.Pending);
        jobs.Enqueue<IngestJob>(job => job.RunAsync(id, title, null, CancellationToken.None));
        LogStarted(logger, id, found.Pending, found.Skipped);
        return new StartedSession(id, found.Pending, totalDiscovered, found.Skipped);
    }

    /// <summary>The live snapshot, else the last one saved in the catalog.</summary>
    public async Task<ProgressSnapshot?> FindAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (registry.Get(sessionId) is { } live)
        {
            return live.Snapshot;
        }

        var record = await catalog.GetSessionAsync(sessionId, cancellationToken);
        return record?.Snapshot;
    }

    /// <summary>Sessions newest first: live ones as they are now, the rest from the catalog.</summary>
    public async Task<IReadOnlyList<ProgressSnapshot>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var stored = await catalog.ListSessionsAsync(limit, runningOnly: false, cancellationToken);
        return [.. stored.Select(s => registry.Get(s.Id)?.Snapshot ?? s.Snapshot)];
    }

    public ProgressSnapshot? Running() =>
        registry.All().Select(u => u.Snapshot).FirstOrDefault(s => !s.Status.IsTerminal());

    /// <summary>
    /// What the replaced app calls the active session: the newest running one, else the newest session not yet
    /// deleted, however it ended (its page shows a finished session until the user clears it).
    /// </summary>
    public async Task<ProgressSnapshot?> ActiveAsync(CancellationToken cancellationToken)
    {
        if (Running() is { } running)
        {
            return running;
        }

        var newest = await catalog.ListSessionsAsync(1, runningOnly: false, cancellationToken);
        return newest.Count == 0 ? null : registry.Get(newest[0].Id)?.Snapshot ?? newest[0].Snapshot;
    }

    /// <summary>Stops a running session; false when it is unknown.</summary>
    public async Task<ProgressSnapshot?> CancelAsync(string sessionId, CancellationToken cancellationToken)
    {
        var snapshot = await FindAsync(sessionId, cancellationToken);
        if (snapshot is null)
        {
            return null;
        }

        if (snapshot.Status.IsTerminal())
        {
            return snapshot;
        }

        control.Cancel(sessionId);
        if (!control.IsRunning(sessionId) && snapshot.Status == SessionStatus.Starting)
        {
            // Not picked up yet: the job will see the request and end as cancelled at once.
            LogCancelQueued(logger, sessionId);
        }

        return snapshot;
    }

    /// <summary>Re-enqueues an interrupted or cancelled session; its committed files are not redone.</summary>
    public async Task<(ProgressSnapshot? Snapshot, InputError? Error)> ResumeAsync(string sessionId, CancellationToken cancellationToken)
    {
        var snapshot = await FindAsync(sessionId, cancellationToken);
        if (snapshot is null)
        {
            return (null, null);
        }

        if (snapshot.Status is not (SessionStatus.Interrupted or SessionStatus.Cancelled))
        {
            return (snapshot, new InputError("session_id", $"only an interrupted or cancelled session can be resumed; this one is {snapshot.Status.ToWire()}"));
        }

        control.Reset(sessionId);
        var resumed = snapshot with { Status = SessionStatus.Starting, EndTime = null, Seq = snapshot.Seq + 1, UpdatedAt = time.GetUtcNow(), Message = null };
        await catalog.SaveSnapshotAsync(resumed, cancellationToken);
        registry.Publish(resumed);
        var record = await catalog.GetSessionAsync(sessionId, cancellationToken);
        var title = record is null ? "" : JobTitle(JsonSerializer.Deserialize<IngestParameters>(record.ParametersJson, ProgressWire.Options)!, snapshot.TotalFiles);
        jobs.Enqueue<IngestJob>(job => job.RunAsync(sessionId, title, null, CancellationToken.None));
        LogResumed(logger, sessionId);
        return (resumed, null);
    }

    /// <summary>
    /// Commits a session whose processing completed. Deferred: its staged files are written by a
    /// <see cref="CommitJob"/> (status <c>committing</c>, then <c>committed</c> or <c>commit_error</c>; a failed commit
    /// may be tried again). Per-file: its files are in the catalog already, so it is <c>committed</c> at once.
    /// Null when the session is unknown; an error when it cannot be committed now.
    /// </summary>
    public async Task<(ProgressSnapshot? Snapshot, InputError? Error)> CommitAsync(string sessionId, CancellationToken cancellationToken)
    {
        // One transition at a time: two commits of one session must not both start a job.
        await _commitLock.WaitAsync(cancellationToken);
        try
        {
            var snapshot = await FindAsync(sessionId, cancellationToken);
            if (snapshot is null)
            {
                return (null, null);
            }

            var retry = snapshot is { Status: SessionStatus.CommitError, CommitMode: CommitMode.Deferred };
            if (snapshot.Status != SessionStatus.Completed && !retry)
            {
                return (snapshot, new InputError("session_id", $"processing has not completed: the session is {snapshot.Status.ToWire()}"));
            }

            var now = time.GetUtcNow();
            var deferred = snapshot.CommitMode == CommitMode.Deferred;
            var next = snapshot with
            {
                Status = deferred ? SessionStatus.Committing : SessionStatus.Committed,
                CommitProgress = deferred ? 0 : 100,
                CommitError = null,
                Message = null,
                EndTime = deferred ? null : now,
                Seq = snapshot.Seq + 1,
                UpdatedAt = now,
            };
            await catalog.SaveSnapshotAsync(next, cancellationToken);
            registry.Publish(next);
            if (deferred)
            {
                control.Reset(sessionId);
                var title = $"{snapshot.ProcessedFiles} staged files of session {sessionId[..8]}";
                jobs.Enqueue<CommitJob>(job => job.RunAsync(sessionId, title, null, CancellationToken.None));
            }

            LogCommitStarted(logger, sessionId, next.Status);
            return (next, null);
        }
        finally
        {
            _commitLock.Release();
        }
    }

    /// <summary>Cancels the session if it runs, and forgets it (memory and catalog history).</summary>
    public async Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken)
    {
        var snapshot = await FindAsync(sessionId, cancellationToken);
        if (snapshot is null)
        {
            return false;
        }

        // Only a session whose job may still run needs stopping (a request is cleared when its run ends).
        if (!snapshot.Status.IsTerminal())
        {
            control.Delete(sessionId);
        }

        await catalog.DeleteSessionAsync(sessionId, cancellationToken);
        registry.Remove(sessionId);
        return true;
    }

    /// <summary>
    /// What the job's name in the Hangfire dashboard says after "Ingest": "250 files from photos/2024 (+2 folders)".
    /// A job argument, so any node (and a requeued job) names it without a lookup.
    /// </summary>
    public static string JobTitle(IngestParameters parameters, int files)
    {
        var folders = (parameters.Directories ?? []).Append(parameters.Directory).OfType<string>().Where(d => !string.IsNullOrWhiteSpace(d)).Distinct().ToList();
        var first = folders.Count == 0 || folders[0].Trim('/').Length == 0 ? "the media root" : folders[0];
        var more = folders.Count > 1 ? $" (+{folders.Count - 1} folder{(folders.Count == 2 ? "" : "s")})" : "";
        return $"{files} file{(files == 1 ? "" : "s")} from {first}{more}";
    }

    /// <summary>Checks a request's folders (inside the root, existing), pattern and limits; the folders resolved to full paths.</summary>
    public (IReadOnlyList<string> Directories, InputError? Error) Validate(IngestParameters parameters, out FilePattern pattern)
    {
        pattern = null!;
        var requested = new List<(string Field, string Path)>();
        if (parameters.Directories is { } many)
        {
            for (var i = 0; i < many.Count; i++)
            {
                requested.Add(($"directories[{i}]", many[i]));
            }
        }

        if (!string.IsNullOrWhiteSpace(parameters.Directory))
        {
            requested.Add(("directory", parameters.Directory));
        }

        if (requested.Count == 0)
        {
            return ([], new InputError("directory", "a directory (or directories) is required"));
        }

        if (requested.Count > 1000)
        {
            return ([], new InputError("directories", "at most 1000 directories per session"));
        }

        var resolved = new List<string>();
        foreach (var (field, path) in requested)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                return ([], new InputError(field, "must not be empty"));
            }

            if (!root.TryResolve(path, out var full, out var reason))
            {
                return ([], new InputError(field, $"'{path}' {reason}"));
            }

            if (!Directory.Exists(full))
            {
                return ([], new InputError(field, $"'{path}' does not exist or is not a folder"));
            }

            if (!resolved.Contains(full))
            {
                resolved.Add(full);
            }
        }

        if (!FilePattern.TryParse(parameters.Pattern, out pattern, out var patternError))
        {
            return ([], new InputError("pattern", patternError));
        }

        if (parameters.MaxFiles is < 1)
        {
            return ([], new InputError("max_files", "must be at least 1"));
        }

        if (parameters.NsfwThreshold is < 0 or > 1 || parameters.NsfwThreshold is { } threshold && double.IsNaN(threshold))
        {
            return ([], new InputError("nsfw_threshold", "must be between 0 and 1"));
        }

        return (resolved, null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} created: {Files} files to ingest, {Skipped} unchanged")]
    private static partial void LogStarted(ILogger logger, string sessionId, int files, int skipped);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} commit requested: {Status}")]
    private static partial void LogCommitStarted(ILogger logger, string sessionId, SessionStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} resumed")]
    private static partial void LogResumed(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} cancelled before its job started")]
    private static partial void LogCancelQueued(ILogger logger, string sessionId);
}

/// <summary>
/// What discovery found, counted as it streams by. The folders it could not list become the session's errors: all
/// are counted (and each has its row in the session's results), the last few are kept for the snapshot's details.
/// </summary>
internal sealed class DiscoveryCounts
{
    private const int ProblemsKept = 100;

    public int Pending { get; private set; }

    public int Skipped { get; private set; }

    public int ProblemCount { get; private set; }

    public List<DiscoveryProblem> Problems { get; } = [];

    public void Add(DiscoveryItem item)
    {
        switch (item.Kind)
        {
            case DiscoveryKind.Pending: Pending++; break;
            case DiscoveryKind.Skipped: Skipped++; break;
            default:
                ProblemCount++;
                Problems.Add(new DiscoveryProblem(item.File.Path, item.Reason!));
                if (Problems.Count > ProblemsKept)
                {
                    Problems.RemoveAt(0);
                }

                break;
        }
    }

    public static DiscoveryCounts Of(DiscoveryResult discovery)
    {
        var counts = new DiscoveryCounts();
        foreach (var file in discovery.Files)
        {
            counts.Add(new DiscoveryItem(DiscoveryKind.Pending, file));
        }

        return counts;
    }
}
