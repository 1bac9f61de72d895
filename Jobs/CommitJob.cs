using Hangfire;
using Hangfire.Server;
using IngestLite.Catalog;
using IngestLite.Progress;

namespace IngestLite.Jobs;

/// <summary>
/// The Hangfire job of a deferred session's commit: writes its staged files to the catalog in processing
/// order, one transaction each, and reports through <see cref="SessionProgress"/> on the session's streams.
/// A file the catalog refuses fails alone; a catalog that cannot be reached ends the commit in <c>commit_error</c>,
/// and a later commit writes only what is still staged.
/// </summary>
public sealed partial class CommitJob(
    ISessionStore catalog,
    ICounterMarks marks,
    IProgressRegistry registry,
    SessionControl control,
    IFileGate gate,
    TimeProvider time,
    ILogger<CommitJob> logger)
{
    private const int Batch = 256;

    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("Commit {1}")]
    public async Task<IngestOutcome> RunAsync(string sessionId, string title, PerformContext? context, CancellationToken cancellationToken)
    {
        var record = await catalog.GetSessionAsync(sessionId, cancellationToken);
        var snapshot = registry.Get(sessionId)?.Snapshot ?? record?.Snapshot;
        if (record is null || snapshot is not { Status: SessionStatus.Committing })
        {
            control.Reset(sessionId);
            LogNothingToCommit(logger, sessionId, snapshot?.Status.ToWire() ?? "gone");
            return new IngestOutcome(snapshot?.Status.ToWire() ?? "deleted", null);
        }

        var progress = new SessionProgress(snapshot with { JobId = context?.BackgroundJob?.Id ?? snapshot.JobId }, registry, time, marks);
        using var run = control.Begin(sessionId, progress, cancellationToken);
        SessionStatus final = SessionStatus.Committed;
        string? failure = null;
        try
        {
            var total = await catalog.CountStagedAsync(sessionId, run.Token);
            var done = 0;
            var after = 0L;
            while (await catalog.StagedFilesAsync(sessionId, after, Batch, run.Token) is { Count: > 0 } batch)
            {
                foreach (var file in batch)
                {
                    await gate.WaitAsync(sessionId, run.Token);
                    FileError? error = null;
                    try
                    {
                        await catalog.CommitStagedAsync(sessionId, file, run.Token);
                    }
                    catch (CatalogRejectedException ex)
                    {
                        await catalog.FailStagedAsync(sessionId, file.Ord, ex.Message, run.Token);
                        error = new FileError(file.Record.Path, "commit", ex.Message, time.GetUtcNow());
                    }

                    progress.FileCommitted(file.Record.Path, ++done, total, error);
                    after = file.Ord;
                }
            }
        }
        catch (OperationCanceledException)
        {
            final = SessionStatus.CommitError;
            failure = "the commit was stopped before it finished; commit again to write the files still staged";
        }
        catch (Exception ex)
        {
            final = SessionStatus.CommitError;
            failure = ex is CatalogException ? ex.Message : $"commit failed: {ex.Message}";
            LogCommitFailed(logger, sessionId, ex);
        }

        var last = progress.FinishCommit(final, failure);
        LogCommitFinished(logger, sessionId, final, last.Stats.CommittedFiles);
        try
        {
            await catalog.SaveSnapshotAsync(last, CancellationToken.None);
        }
        catch (CatalogException ex)
        {
            LogSaveFailed(logger, sessionId, ex);
        }

        return final == SessionStatus.CommitError
            ? throw new IngestFailedException(failure ?? "commit failed")
            : new IngestOutcome(final.ToWire(), null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is {Status}: nothing to commit")]
    private static partial void LogNothingToCommit(ILogger logger, string sessionId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} commit ended {Status}: {Committed} files in the catalog")]
    private static partial void LogCommitFinished(ILogger logger, string sessionId, SessionStatus status, int committed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: the commit failed")]
    private static partial void LogCommitFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: the commit's final state could not be saved")]
    private static partial void LogSaveFailed(ILogger logger, string sessionId, Exception exception);
}
