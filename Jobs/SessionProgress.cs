using System.Collections.Immutable;
using IngestLite.Catalog;
using IngestLite.Progress;

namespace IngestLite.Jobs;

/// <summary>
/// The job's side of progress: mutable counters behind a lock, turned into an immutable
/// snapshot and published on every change. Workers call it concurrently.
/// </summary>
public sealed class SessionProgress
{
    private const int RecentErrors = 10;

    // A seq mark a block ahead: one catalog write per 2,048 changes of a session (a few hundred files).
    private const long SeqBlock = 4096;

    private readonly CounterLease? _seqLease;
    private IProgressRegistry? _registry;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly long _runStartTimestamp;
    private readonly int _processedAtRunStart;
    private ProgressSnapshot _current;

    /// <param name="registry">Where to publish; null builds snapshots without publishing them.</param>
    /// <param name="marks">
    /// Where to keep the session's seq mark (<see cref="ICounterMarks.SessionSeq"/>), so that a crashed run's recovered
    /// snapshot can take a seq above every one this run published; null keeps none. Seqs up to
    /// <paramref name="initial"/>'s must already be covered (saved with the snapshot, or by an earlier mark).
    /// </param>
    public SessionProgress(ProgressSnapshot initial, IProgressRegistry? registry, TimeProvider time, ICounterMarks? marks = null)
    {
        _registry = registry;
        _seqLease = marks is null ? null : new CounterLease(marks, ICounterMarks.SessionSeq(initial.SessionId), SeqBlock, initial.Seq);
        _time = time;
        _current = initial;
        _runStartTimestamp = time.GetTimestamp();
        _processedAtRunStart = initial.ProcessedFiles;
    }

    /// <summary>Stops publishing: the session was deleted, and no later report of its run may bring it back.</summary>
    public void Detach()
    {
        lock (_gate)
        {
            _registry = null;
        }
    }

    /// <summary>
    /// The session's progress in percent: 100 only when every file is done, and for a finished session
    /// with nothing to process. The one definition, live and after a crash.
    /// </summary>
    public static int PercentDone(int processed, int total, SessionStatus status) =>
        total == 0 ? (status.IsTerminal() ? 100 : 0) : (int)Math.Min(100, processed * 100L / total);

    public ProgressSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public ProgressSnapshot SetStatusAndGet(SessionStatus status, string? message = null) =>
        Update(s => s with { Status = status, Message = message ?? s.Message });

    /// <summary>
    /// The hot report call (several per file): one snapshot copy, no delegate. Counters, rate and ETA
    /// only move when a file finishes, so they are carried over as they are. Ignored once the session has ended.
    /// </summary>
    public void SetStage(string file, string stage, long? bytes = null, long? size = null)
    {
        lock (_gate)
        {
            var current = _current;

            // Abandoned work (a timed-out or cancelled file) may still report after the end: the final state stays final.
            if (current.Status.IsTerminal())
            {
                return;
            }

            _current = current with
            {
                CurrentPath = file,
                CurrentStage = stage,
                CurrentFileBytes = bytes,
                CurrentFileSize = size,
                Stalled = false,
                Message = current.Stalled ? null : current.Message,
                Seq = current.Seq + 1,
                UpdatedAt = _time.GetUtcNow(),
            };
            Publish();
        }
    }

    /// <summary>Records a finished file: its counters, and its error if it failed.</summary>
    public void FileFinished(FileTally tally, FileError? error) =>
        Update(s =>
        {
            var stats = s.Stats with
            {
                ProcessedFiles = s.Stats.ProcessedFiles + 1,
                MetadataExtracted = s.Stats.MetadataExtracted + (tally.Metadata ? 1 : 0),
                KeywordsAdded = s.Stats.KeywordsAdded + tally.Keywords,
                ScoresImported = s.Stats.ScoresImported + (tally.Score ? 1 : 0),
                CommittedFiles = s.Stats.CommittedFiles + (tally.Committed ? 1 : 0),
                Errors = s.Stats.Errors + (error is null ? 0 : 1),
                Warnings = s.Stats.Warnings + tally.Warnings,
            };
            return WithError(s with { Stats = stats, ProcessedFiles = stats.ProcessedFiles }, error);
        });

    /// <summary>
    /// Records a staged file's commit (<paramref name="error"/> when the catalog refused it): the commit's
    /// percentage from <paramref name="done"/> of <paramref name="total"/>, and the file committed or failed.
    /// </summary>
    public void FileCommitted(string file, int done, int total, FileError? error) =>
        Update(s => WithError(s with
        {
            CurrentPath = file,
            CurrentStage = "commit",
            CommitProgress = total == 0 ? 100 : (int)Math.Min(100, done * 100L / total),
            Stats = s.Stats with
            {
                CommittedFiles = s.Stats.CommittedFiles + (error is null ? 1 : 0),
                Errors = s.Stats.Errors + (error is null ? 0 : 1),
            },
        }, error));

    /// <summary>An error that belongs to no single catalogued file (an unreadable folder).</summary>
    public void AddError(FileError error) =>
        Update(s => WithError(s with { Stats = s.Stats with { Errors = s.Stats.Errors + 1 } }, error));

    /// <summary>Flags a run that has made no progress; the next real change clears the flag.</summary>
    public void MarkStalled(TimeSpan idle)
    {
        lock (_gate)
        {
            if (_current.Stalled || _current.Status.IsTerminal())
            {
                return;
            }
        }

        Update(s => s with
        {
            Stalled = true,
            Message = $"no progress for {idle.TotalSeconds:0} s (last: {s.CurrentPath ?? "none"}, stage {s.CurrentStage ?? "none"})",
        });
    }

    /// <summary>A watch found <paramref name="count"/> more files to ingest: they join the totals.</summary>
    public void AddFiles(int count) =>
        Update(s => s with
        {
            TotalFiles = s.TotalFiles + count,
            Stats = s.Stats with { TotalFiles = s.Stats.TotalFiles + count, TotalDiscovered = s.Stats.TotalDiscovered + count },
        });

    /// <summary>A watch's batch job took over: the dashboard's links lead to it.</summary>
    public ProgressSnapshot RunBy(string? jobId) => jobId is null ? Current : Update(s => s with { JobId = jobId });

    /// <summary>A watch between batches: no current file, and <paramref name="message"/> (its mode or trouble) when given.</summary>
    public ProgressSnapshot Idle(string? message = null) =>
        Update(s => s with { CurrentStage = null, CurrentFileBytes = null, CurrentFileSize = null, Message = message ?? s.Message });

    public ProgressSnapshot Finish(SessionStatus status, string? message = null) =>
        Update(s => s with { Status = status, EndTime = _time.GetUtcNow(), CurrentStage = null, CurrentFileBytes = null, CurrentFileSize = null, Message = message ?? s.Message });

    /// <summary>Ends a commit: <c>committed</c> (at 100%), or <c>commit_error</c> with <paramref name="commitError"/>.</summary>
    public ProgressSnapshot FinishCommit(SessionStatus status, string? commitError) =>
        Update(s => s with
        {
            Status = status,
            EndTime = _time.GetUtcNow(),
            CurrentStage = null,
            CommitProgress = status == SessionStatus.Committed ? 100 : s.CommitProgress,
            CommitError = commitError,
            Message = commitError,
        });

    private static ProgressSnapshot WithError(ProgressSnapshot s, FileError? error)
    {
        if (error is null)
        {
            return s;
        }

        var details = s.ErrorDetails is ImmutableList<FileError> list ? list : [.. s.ErrorDetails];
        details = details.Add(error);
        if (details.Count > RecentErrors)
        {
            details = details.RemoveAt(0);
        }

        return s with { ErrorDetails = details, Errors = [.. details.Select(e => e.ToString())] };
    }

    private ProgressSnapshot Update(Func<ProgressSnapshot, ProgressSnapshot> change)
    {
        lock (_gate)
        {
            // Any change but the watchdog's own clears a stall.
            var next = change(_current.Stalled ? _current with { Stalled = false, Message = null } : _current);
            var total = next.TotalFiles;
            var processed = next.ProcessedFiles;
            var elapsed = _time.GetElapsedTime(_runStartTimestamp).TotalSeconds;
            var rate = elapsed > 0.05 ? (processed - _processedAtRunStart) / elapsed : 0;
            _current = next with
            {
                Seq = _current.Seq + 1,
                UpdatedAt = _time.GetUtcNow(),
                Progress = PercentDone(processed, total, next.Status),
                FilesPerSecond = Math.Round(rate, 2),
                EtaSeconds = rate > 0 && !next.Status.IsTerminal() ? Math.Round((total - processed) / rate, 1) : null,
            };
            Publish();
            return _current;
        }
    }

    /// <summary>Publishes the current snapshot, its seq covered by the mark first. Under the lock.</summary>
    private void Publish()
    {
        if (_registry is { } registry)
        {
            _seqLease?.Cover(_current.Seq);
            registry.Publish(_current);
        }
    }
}

