using Hangfire.States;

namespace IngestLite.Jobs;

/// <summary>
/// Keeps an ingest job's Hangfire state and its session in step. A job whose session was cancelled ends
/// Deleted, not Succeeded (an error already ends it Failed: the job throws <see cref="IngestFailedException"/>).
/// Hangfire's Delete on a running job cancels its session at once: Hangfire itself tells the job only at its
/// next cancellation check, seconds later. Registered once per host; it acts only on sessions this host runs.
/// </summary>
public sealed class IngestJobStates(SessionControl control) : IElectStateFilter, IApplyStateFilter
{
    /// <summary>After <see cref="Hangfire.AutomaticRetryAttribute"/> (order 20), so no retry reconsiders the state chosen here.</summary>
    public const int Order = 21;

    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is SucceededState { Result: IngestOutcome { Status: "cancelled" } outcome })
        {
            context.CandidateState = new DeletedState { Reason = "The session was cancelled; the files committed before stay in the catalog." };
        }
    }

    public void OnStateApplied(ApplyStateContext context, Hangfire.Storage.IWriteOnlyTransaction transaction)
    {
        if (context.NewState is DeletedState && context.OldStateName == ProcessingState.StateName && SessionOf(context.BackgroundJob.Job) is { } sessionId
            && control.IsRunning(sessionId))
        {
            control.Cancel(sessionId);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, Hangfire.Storage.IWriteOnlyTransaction transaction)
    {
    }

    /// <summary>The session an ingest or commit job works on: its first argument.</summary>
    public static string? SessionOf(Hangfire.Common.Job? job) =>
        job is not null && (job.Type == typeof(IngestJob) || job.Type == typeof(CommitJob)) && job.Args.Count > 0 ? job.Args[0] as string : null;
}
