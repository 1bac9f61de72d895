namespace IngestLite.Progress;

/// <summary>
/// Lets the streams of one session that send at nearly the same moment send the same update. While a
/// session changes continuously, streams woken a few ms apart would each read a different latest state,
/// and each would need its own compressed frame; taking the state the first of them took (if newer than
/// what the stream sent, and taken within the window) keeps them in step, so one frame serves them all.
/// A final state is never replaced.
/// </summary>
public sealed class SessionSampler
{
    private Sample? _last;

    /// <summary>The pace shared by the session's streams.</summary>
    public SharedPace Pace { get; } = new();

    /// <summary>
    /// The update to send now: the one another stream took less than <paramref name="window"/> ago when it
    /// is newer than <paramref name="afterSeq"/> and <paramref name="latest"/> is not final; otherwise
    /// <paramref name="latest"/>, which becomes the one others take. Timestamps are <see cref="TimeProvider"/> ticks.
    /// </summary>
    public ProgressUpdate Take(ProgressUpdate latest, long afterSeq, long now, long window)
    {
        if (!latest.Snapshot.Status.IsTerminal()
            && Volatile.Read(ref _last) is { } last
            && now - last.At < window
            && last.Update.Snapshot.Seq > afterSeq
            && last.Update.Snapshot.Seq <= latest.Snapshot.Seq)
        {
            return last.Update;
        }

        Volatile.Write(ref _last, new Sample(now, latest));
        return latest;
    }

    private sealed record Sample(long At, ProgressUpdate Update);
}
