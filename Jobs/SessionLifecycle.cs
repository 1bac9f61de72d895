using System.Text.Json;
using IngestLite.Catalog;
using IngestLite.Progress;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>
/// At start-up, marks sessions a previous process left running as
/// interrupted, reloads recent sessions into the registry, and drops finished ones from memory
/// once they are older than <see cref="IngestOptions.SessionRetention"/>.
/// </summary>
public sealed partial class SessionLifecycle(
    ISessionStore catalog,
    ICounterMarks marks,
    IProgressRegistry registry,
    IOptions<IngestOptions> options,
    TimeProvider time,
    ILogger<SessionLifecycle> logger) : BackgroundService
{
    private const int SessionsReloaded = 50;

    /// <summary>On storage shared by nodes, how old a discovery with no session row must be before it counts as abandoned.</summary>
    private static readonly TimeSpan SharedDiscoveryLimit = TimeSpan.FromDays(1);

    private DateTimeOffset _started;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _started = time.GetUtcNow();

        // Before the server takes requests: no session claims to run (the catalog was migrated when it was opened).
        // Nodes sharing PostgreSQL: another node may run them; only those of a node whose lease lapsed are interrupted (below).
        if (registry is not PostgresProgressRegistry)
        {
            foreach (var stale in await catalog.ListSessionsAsync(int.MaxValue, runningOnly: true, cancellationToken))
            {
                await InterruptAsync(stale.Id, stale.Snapshot, cancellationToken);
            }
        }

        foreach (var recent in (await catalog.ListSessionsAsync(SessionsReloaded, runningOnly: false, cancellationToken)).Reverse())
        {
            var snapshot = recent.Snapshot;
            if (!IsExpired(snapshot, time.GetUtcNow()))
            {
                registry.Publish(snapshot);
            }
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(options.Value.SessionRetention.Ticks / 10, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromMinutes(5).Ticks));
        using var timer = new PeriodicTimer(period, time);
        var orphans = registry is PostgresProgressRegistry shared ? SweepOrphansAsync(shared, stoppingToken) : Task.CompletedTask;
        try
        {
            await ForgetAbandonedDiscoveriesAsync(stoppingToken);
            var discoveriesLooked = time.GetUtcNow();
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = time.GetUtcNow();
                if (registry is PostgresProgressRegistry && now - discoveriesLooked >= SharedDiscoveryLimit)
                {
                    await ForgetAbandonedDiscoveriesAsync(stoppingToken);
                    discoveriesLooked = now;
                }

                foreach (var update in registry.All())
                {
                    if (IsExpired(update.Snapshot, now) && registry.Forget(update.Snapshot.SessionId))
                    {
                        LogDropped(logger, update.Snapshot.SessionId);
                    }
                }

                // The shared table forgets them too (their history stays in the catalog): it holds live and recent sessions only.
                if (registry is PostgresProgressRegistry table)
                {
                    try
                    {
                        await table.PruneAsync(options.Value.SessionRetention, stoppingToken);
                    }
                    catch (Npgsql.NpgsqlException ex)
                    {
                        LogSweepFailed(logger, ex.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        await orphans.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Marks a session no process runs any more as interrupted (a commit cut short: commit_error), with counts from its per-file results.</summary>
    private async Task<ProgressSnapshot> InterruptAsync(string id, ProgressSnapshot snapshot, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();

        // The snapshot was saved when the run started: every counter comes from the per-file results, as
        // SessionProgress counts them live. Its seq goes above every seq ever sent: the run covered each one
        // it published with the session's seq mark before publishing it, and every other (creation, resume,
        // an earlier recovery) was saved with the snapshot before it was published.
        var totals = await catalog.SummarizeFileResultsAsync(id, cancellationToken);
        var processed = totals.Committed + totals.CommittedWithWarnings + totals.Failed + totals.Staged;
        var seq = Math.Max(snapshot.Seq, marks.ReadMark(ICounterMarks.SessionSeq(id))) + 1;

        // A commit cut short is a failed commit (its files still staged stay so, and a commit again writes them);
        // a run cut short is interrupted, to be resumed.
        var committing = snapshot.Status == SessionStatus.Committing;
        var message = committing
            ? "the app stopped during the commit; commit again to write the files still staged"
            : "the app stopped while this session was running; resume it to finish";
        var interrupted = snapshot with
        {
            Status = committing ? SessionStatus.CommitError : SessionStatus.Interrupted,
            CommitError = committing ? message : snapshot.CommitError,
            EndTime = now,
            UpdatedAt = now,
            Seq = seq,
            ProcessedFiles = processed,
            Progress = SessionProgress.PercentDone(processed, snapshot.TotalFiles, SessionStatus.Interrupted),
            CurrentStage = null,
            CurrentFileBytes = null,
            CurrentFileSize = null,
            FilesPerSecond = 0,
            EtaSeconds = null,
            Stalled = false,
            Message = message,
            Stats = snapshot.Stats with
            {
                ProcessedFiles = processed,
                CommittedFiles = totals.Committed + totals.CommittedWithWarnings,
                Errors = totals.Failed + totals.FailedAtDiscovery,
                Warnings = totals.Warnings,
                MetadataExtracted = totals.Metadata,
                KeywordsAdded = totals.Keywords,
                ScoresImported = totals.Scores,
            },
        };
        await catalog.SaveSnapshotAsync(interrupted, cancellationToken);
        LogInterrupted(logger, id);
        return interrupted;
    }

    /// <summary>Every third of the lease: the running sessions of nodes that are gone become interrupted, to be resumed.</summary>
    private async Task SweepOrphansAsync(PostgresProgressRegistry shared, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(shared.Lease / 3, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var id in await shared.OrphansAsync(stoppingToken))
                {
                    var snapshot = shared.Get(id)?.Snapshot ?? (await catalog.GetSessionAsync(id, stoppingToken))?.Snapshot;
                    if (snapshot is not null && !snapshot.Status.IsTerminal())
                    {
                        registry.Publish(await InterruptAsync(id, snapshot, stoppingToken));
                    }
                }
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or CatalogException or TimeoutException)
            {
                LogSweepFailed(logger, ex.Message);
            }
        }
    }

    /// <summary>
    /// Drops the discovered files of sessions whose discovery died with its process before the session's row was
    /// written (the row comes last, see <see cref="IngestSessions"/>). Alone, such a discovery began before this
    /// process started; nodes sharing PostgreSQL may be discovering right now, so there only those begun a day ago go.
    /// </summary>
    private async Task ForgetAbandonedDiscoveriesAsync(CancellationToken cancellationToken)
    {
        var before = registry is PostgresProgressRegistry ? time.GetUtcNow() - SharedDiscoveryLimit : _started;
        try
        {
            foreach (var id in await catalog.SessionlessDiscoveriesAsync(cancellationToken))
            {
                if (DiscoveryStartedAt(id) < before)
                {
                    await catalog.DeleteSessionAsync(id, cancellationToken);
                    LogAbandonedDiscovery(logger, id);
                }
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or CatalogException or TimeoutException)
        {
            LogSweepFailed(logger, ex.Message);
        }
    }

    /// <summary>When a session's discovery began, from its id (a version 7 GUID carries its creation time); null for other ids.</summary>
    internal static DateTimeOffset? DiscoveryStartedAt(string id) =>
        Guid.TryParseExact(id, "N", out var guid) && guid.Version == 7
            ? DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(id[..12], 16))
            : null;

    private bool IsExpired(ProgressSnapshot snapshot, DateTimeOffset now) =>
        snapshot.Status.IsTerminal() && now - (snapshot.EndTime ?? snapshot.UpdatedAt) > options.Value.SessionRetention;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was left running by a process that is gone; marked interrupted (or commit_error)")]
    private static partial void LogInterrupted(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: its discovery was cut short by a process that is gone; its discovered files are dropped")]
    private static partial void LogAbandonedDiscovery(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not look for sessions of nodes that are gone, or discoveries they left: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} dropped from memory after its retention period")]
    private static partial void LogDropped(ILogger logger, string sessionId);
}
