using System.Text.Json;
using Hangfire;
using Hangfire.Server;
using IngestLite.Catalog;
using IngestLite.Progress;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>
/// The Hangfire job: processes a session's pending files in parallel, commits each one, and
/// reports through <see cref="SessionProgress"/>. One bad file never stops the run.
/// </summary>
public sealed partial class IngestJob(
    ISessionStore catalog,
    ICounterMarks marks,
    IProgressRegistry registry,
    FileProcessor processor,
    SessionControl control,
    IFileGate gate,
    IOptionsMonitor<IngestOptions> options,
    Watching.WatchService watches,
    TimeProvider time,
    ILogger<IngestJob> logger)
{
    /// <summary>
    /// Runs the session's pending files. <paramref name="title"/> only names the job in the dashboard; Hangfire
    /// passes <paramref name="context"/> (the job's id goes into the snapshot, so the dashboard can find the session).
    /// A job that finds its session stopped (Hangfire's Requeue of a cancelled, interrupted or failed run)
    /// resumes it; a finished one stays finished. The outcome decides the job's state (<see cref="IngestJobStates"/>):
    /// completed is Succeeded, cancelled Deleted, and an error Failed with its message.
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("Ingest {1}")]
    public async Task<IngestOutcome> RunAsync(string sessionId, string title, PerformContext? context, CancellationToken cancellationToken)
    {
        var record = await catalog.GetSessionAsync(sessionId, cancellationToken);
        if (record is null)
        {
            // Deleted before its job started: this was the run its cancel request waited for.
            control.Reset(sessionId);
            LogSessionGone(logger, sessionId);
            return new IngestOutcome("deleted", null);
        }

        if (watches.ProgressOf(sessionId) is { } watching)
        {
            return await RunWatchBatchAsync(record, watching, context?.BackgroundJob?.Id, cancellationToken);
        }

        if (control.IsRunning(sessionId))
        {
            // Requeued while it runs: the run in progress carries on, this one adds nothing.
            LogAlreadyFinished(logger, sessionId, SessionStatus.Processing);
            return new IngestOutcome(SessionStatus.Processing.ToWire(), "already running");
        }

        var snapshot = registry.Get(sessionId)?.Snapshot ?? record.Snapshot;
        if (snapshot.Status is SessionStatus.Cancelled or SessionStatus.Interrupted or SessionStatus.Error)
        {
            // Requeued from the dashboard: resume, as POST /api/ingest/resume does; committed files are not redone.
            control.Reset(sessionId);
            snapshot = snapshot with { Status = SessionStatus.Starting, EndTime = null, Message = null };
            LogRequeued(logger, sessionId);
        }
        else if (snapshot.Status.IsTerminal())
        {
            LogAlreadyFinished(logger, sessionId, snapshot.Status);
            return new IngestOutcome(snapshot.Status.ToWire(), snapshot.Message);
        }

        var parameters = JsonSerializer.Deserialize<IngestParameters>(record.ParametersJson, ProgressWire.Options)!;
        var progress = new SessionProgress(snapshot with { JobId = context?.BackgroundJob?.Id ?? snapshot.JobId }, registry, time, marks);
        SessionStatus final;
        string? message = null;
        using var run = control.Begin(sessionId, progress, cancellationToken);
        try
        {
            run.Token.ThrowIfCancellationRequested();
            await catalog.SaveSnapshotAsync(progress.SetStatusAndGet(SessionStatus.Processing), run.Token);
            // The pending files are read a page at a time as workers take them: a million files are never all in memory.
            LogRunStarted(logger, sessionId, snapshot.TotalFiles - snapshot.ProcessedFiles);
            await ProcessAllAsync(sessionId, catalog.StreamPendingFilesAsync(sessionId, run.Token), parameters, progress, snapshot.CommitMode, run.Token);
            final = SessionStatus.Completed;
        }
        catch (OperationCanceledException)
        {
            final = control.WasCancelled(sessionId) ? SessionStatus.Cancelled : SessionStatus.Interrupted;
        }
        catch (CatalogUnavailableException ex)
        {
            final = SessionStatus.Error;
            message = ex.Message;
        }
        catch (Exception ex)
        {
            final = SessionStatus.Error;
            message = $"ingest failed: {ex.Message}";
            LogRunFailed(logger, sessionId, ex);
        }

        var last = progress.Finish(final, message);
        LogRunFinished(logger, sessionId, final, last.Stats.CommittedFiles, last.Stats.Errors);
        try
        {
            await catalog.SaveSnapshotAsync(last, CancellationToken.None);
        }
        catch (CatalogException ex)
        {
            LogSaveFailed(logger, sessionId, ex);
        }

        // The server is stopping (Hangfire's own token): the job stays Processing and Hangfire runs it again
        // once a server is back, which resumes the session (it is interrupted by then).
        if (final == SessionStatus.Interrupted)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        return final == SessionStatus.Error
            ? throw new IngestFailedException(last.Message ?? "ingest failed")
            : new IngestOutcome(final.ToWire(), last.Message);
    }

    /// <summary>Processes and commits <paramref name="pending"/> in parallel (Ingest:WorkerCount), through the test gate and the throttle.</summary>
    private async Task ProcessAllAsync(
        string sessionId, IAsyncEnumerable<(long Ord, DiscoveredFile File)> pending, IngestParameters parameters, SessionProgress progress, CommitMode mode, CancellationToken cancellationToken)
    {
        // Read per run, so a throttle change applies to the next session without a restart.
        var settings = options.CurrentValue;
        var pacer = new Pacer(settings.MaxFilesPerSecond, time);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = settings.WorkerCount, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(pending, parallel, async (item, token) =>
        {
            await gate.WaitAsync(sessionId, token);
            await pacer.WaitAsync(token);
            var outcome = await ProcessWithTimeoutAsync(sessionId, item.File, parameters, progress, settings.FileTimeout, token);
            outcome = await CommitAsync(sessionId, item.Ord, outcome, mode, token);
            progress.FileFinished(outcome.Tally, outcome.Error);
        });
    }

    /// <summary>
    /// One batch of a watch: the files its watch handed over (and any it handed over meanwhile), reported through the
    /// watch's own progress, so the session stays <c>watching</c>. Deleting the batch job in the dashboard stops the
    /// batch, not the watch; a cancel of the session through the API stops the watch (<see cref="Watching.WatchService.StopSessionAsync"/>).
    /// </summary>
    private async Task<IngestOutcome> RunWatchBatchAsync(SessionRecord record, SessionProgress progress, string? jobId, CancellationToken cancellationToken)
    {
        var sessionId = record.Id;
        if (control.IsRunning(sessionId))
        {
            return new IngestOutcome(SessionStatus.Watching.ToWire(), "a batch of this watch is running");
        }

        var parameters = JsonSerializer.Deserialize<IngestParameters>(record.ParametersJson, ProgressWire.Options)!;
        using var run = control.Begin(sessionId, progress, cancellationToken);
        progress.RunBy(jobId);
        try
        {
            for (var pending = await catalog.PendingFilesAsync(sessionId, run.Token); pending.Count > 0; pending = await catalog.PendingFilesAsync(sessionId, run.Token))
            {
                await ProcessAllAsync(sessionId, pending.ToAsyncEnumerable(), parameters, progress, CommitMode.PerFile, run.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            control.Reset(sessionId);
        }

        await catalog.SaveSnapshotAsync(progress.Idle(), CancellationToken.None);
        cancellationToken.ThrowIfCancellationRequested();
        return new IngestOutcome(SessionStatus.Watching.ToWire(), progress.Current.Message);
    }

    /// <summary>
    /// Runs one file's stages with a deadline. The stages include synchronous decoders that cannot be
    /// cancelled, so a hung file is abandoned (its token cancelled) and recorded as timed out.
    /// </summary>
    private async Task<FileOutcome> ProcessWithTimeoutAsync(
        string sessionId, DiscoveredFile file, IngestParameters parameters, SessionProgress progress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var perFile = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = Task.Run(() => processor.ProcessAsync(file, parameters, progress, perFile.Token), CancellationToken.None);
        try
        {
            return await work.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            await perFile.CancelAsync();
            LogFileTimedOut(logger, sessionId, file.Path, timeout.TotalSeconds);
            return processor.Failed(file.Path, "timeout", $"no result after {timeout.TotalSeconds:0.###} s; the file was abandoned", file.Size, started);
        }
        finally
        {
            // Dispose only once the abandoned work is done with the token.
            _ = work.ContinueWith(static (_, state) => ((CancellationTokenSource)state!).Dispose(), perFile, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Commits the file (per-file mode), or holds it for the session's commit (deferred mode: the catalog is not touched).</summary>
    private async Task<FileOutcome> CommitAsync(string sessionId, long ord, FileOutcome outcome, CommitMode mode, CancellationToken cancellationToken)
    {
        try
        {
            if (mode == CommitMode.Deferred && outcome.Media is { } media)
            {
                var staged = outcome with { Result = outcome.Result with { State = FileStates.ToStaged(outcome.Result.State) }, Tally = outcome.Tally with { Committed = false } };
                await catalog.StageFileAsync(sessionId, ord, media, staged.Result, staged.Tally, cancellationToken);
                return staged;
            }

            await catalog.CommitFileAsync(sessionId, ord, outcome.Media, outcome.Result, outcome.Tally, cancellationToken);
            return outcome;
        }
        catch (CatalogRejectedException ex)
        {
            // This file's row was refused; record the failure and carry on with the others.
            var failed = processor.Failed(outcome.Result.Path, "commit", ex.Message, outcome.Result.Size, time.GetTimestamp());
            await catalog.CommitFileAsync(sessionId, ord, null, failed.Result, failed.Tally, cancellationToken);
            return failed;
        }
    }


    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: {File} gave no result after {Seconds} s and was abandoned")]
    private static partial void LogFileTimedOut(ILogger logger, string sessionId, string file, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} no longer exists; job skipped")]
    private static partial void LogSessionGone(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is already {Status}; job skipped")]
    private static partial void LogAlreadyFinished(ILogger logger, string sessionId, SessionStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: its job was requeued; resuming")]
    private static partial void LogRequeued(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} started with {Pending} pending files")]
    private static partial void LogRunStarted(ILogger logger, string sessionId, int pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} ended {Status}: {Committed} committed, {Errors} errors")]
    private static partial void LogRunFinished(ILogger logger, string sessionId, SessionStatus status, int committed, int errors);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} failed")]
    private static partial void LogRunFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: the final state could not be saved")]
    private static partial void LogSaveFailed(ILogger logger, string sessionId, Exception exception);
}

/// <summary>What an ingest or commit job returns: the session's final status (and why), which decides the job's state.</summary>
public sealed record IngestOutcome(string Status, string? Message);

/// <summary>A session that ended in <c>error</c>: thrown so that Hangfire marks its job Failed with the reason.</summary>
public sealed class IngestFailedException(string message) : Exception(message);
