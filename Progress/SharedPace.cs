namespace IngestLite.Progress;

/// <summary>
/// The pace of every stream that follows the same thing: one session, or the whole registry for the
/// multiplexed stream. A change after a quiet spell is released at once. Within
/// <see cref="StreamOptions.MinEventInterval"/> of the last release, the pace waits for the changes to pause:
/// it looks after <see cref="StreamOptions.QuietPeriod"/>, then after twice and four times that, and releases
/// as soon as nothing changed since the last look (a short burst, such as a file's stages, has ended), or at
/// the end of the interval. That wait is shared: however many streams follow, one chain of at most four
/// timers runs per release, and the streams wake together (so they send the same state, and one compressed
/// frame serves them all). Measured with 100 viewers of a busy ingest: per-stream waits were most of the
/// streams' CPU.
/// A milestone (a file finished, the status changed: what a viewer is watching for) does not wait for the
/// burst to pause: it is released at once, or within <see cref="MilestoneLook"/> when a wait is running,
/// at most once per half MinEventInterval (files finishing at 10 a second, give or take, all go out at once),
/// so a stream sends at most three times 1/MinEventInterval events a second.
/// </summary>
public sealed class SharedPace
{
    private static readonly TimeSpan OneMillisecond = TimeSpan.FromMilliseconds(1);

    /// <summary>How often a running wait looks for a milestone.</summary>
    public static readonly TimeSpan MilestoneLook = TimeSpan.FromMilliseconds(2);

    private readonly Lock _lock = new();
    private long _releasedAt;
    private Task<long> _released = Task.FromResult(0L);
    private Task<long>? _pending;
    private long _milestoneReleased;
    private long _milestoneReleasedAt;

    /// <summary>The number of the last release; a stream that starts now has seen it.</summary>
    public long Generation => Volatile.Read(ref _released).Result;

    /// <summary>
    /// Completes when a stream that sent in release <paramref name="sentGeneration"/> may send the newest
    /// state, with the release to remember: at once when a release happened since, or when the last one is
    /// at least MinEventInterval old; otherwise when the shared wait ends. <paramref name="version"/> reads
    /// the followed state's version; -1 (a final state) ends the wait. <paramref name="milestone"/>, when given,
    /// reads a value that changes with every milestone of the followed state.
    /// </summary>
    public Task<long> WaitAsync(long sentGeneration, Func<long> version, StreamOptions options, TimeProvider time, Func<long>? milestone = null)
    {
        // The streams woken by a release all pass here at once: no lock for them.
        var released = Volatile.Read(ref _released);
        if (released.Result > sentGeneration)
        {
            return released;
        }

        lock (_lock)
        {
            if (_released.Result > sentGeneration)
            {
                return _released;
            }

            if (_pending is { } pending)
            {
                return pending;
            }

            var now = time.GetTimestamp();
            var left = options.MinEventInterval - time.GetElapsedTime(_releasedAt, now);
            if (_releasedAt == 0 || left <= TimeSpan.Zero)
            {
                return Release(now, milestone, urgent: false);
            }

            if (MilestoneDue(milestone, now, options, time))
            {
                return Release(now, milestone, urgent: true);
            }

            // The wait can end synchronously, inside this lock (re-entrant): when it starts on a final state,
            // or when less than a millisecond of the interval is left (Task.Delay completes at once below
            // 1 ms). Only a wait still running is shared: a finished one kept here would end every later
            // wait at once, and the streams would go unpaced (seen once in the bench: 30,000 frames a run).
            var settle = SettleAsync(_releasedAt + (long)(options.MinEventInterval.TotalSeconds * time.TimestampFrequency), version, milestone, options, time);
            if (!settle.IsCompleted)
            {
                _pending = settle;
            }

            return settle;
        }
    }

    private async Task<long> SettleAsync(long deadline, Func<long> version, Func<long>? milestone, StreamOptions options, TimeProvider time)
    {
        var urgent = false;
        try
        {
            var seen = version();
            var wait = options.QuietPeriod;
            for (var look = 0; seen >= 0; look++)
            {
                // Task.Delay counts whole milliseconds: less than one left is the deadline.
                var left = time.GetElapsedTime(time.GetTimestamp(), deadline);
                if (look > 0 && left < OneMillisecond)
                {
                    break;
                }

                var delay = look < 3 && wait < left ? wait : left;
                if (await SleepAsync(delay > TimeSpan.Zero ? delay : OneMillisecond, milestone, options, time).ConfigureAwait(false))
                {
                    urgent = true;
                    break;
                }

                var now = version();
                if (now == seen)
                {
                    break;
                }

                seen = now;
                wait *= 2;
            }
        }
        finally
        {
            // Also when reading the version failed (its streams see the error): the next wait starts afresh.
            lock (_lock)
            {
                _pending = null;
                Release(time.GetTimestamp(), milestone, urgent);
            }
        }

        return Volatile.Read(ref _released).Result;
    }

    /// <summary>Sleeps <paramref name="delay"/>; true as soon as a milestone is due (looking every <see cref="MilestoneLook"/>).</summary>
    private async Task<bool> SleepAsync(TimeSpan delay, Func<long>? milestone, StreamOptions options, TimeProvider time)
    {
        if (milestone is null)
        {
            await Task.Delay(delay, time).ConfigureAwait(false);
            return false;
        }

        var until = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
        var rest = delay;
        do
        {
            await Task.Delay(rest < MilestoneLook ? rest : MilestoneLook, time).ConfigureAwait(false);
            var now = time.GetTimestamp();
            if (MilestoneDue(milestone, now, options, time))
            {
                return true;
            }

            rest = time.GetElapsedTime(now, until);
        }
        while (rest >= OneMillisecond);

        return false;
    }

    /// <summary>A milestone not released yet, and none released within the last half MinEventInterval.</summary>
    private bool MilestoneDue(Func<long>? milestone, long now, StreamOptions options, TimeProvider time) =>
        milestone is not null
        && milestone() != Volatile.Read(ref _milestoneReleased)
        && (Volatile.Read(ref _milestoneReleasedAt) == 0 || time.GetElapsedTime(Volatile.Read(ref _milestoneReleasedAt), now) >= options.MinEventInterval / 2);

    private Task<long> Release(long now, Func<long>? milestone, bool urgent)
    {
        if (milestone is not null)
        {
            // Whatever released it, the milestones up to now are out.
            Volatile.Write(ref _milestoneReleased, milestone());
        }

        if (urgent)
        {
            Volatile.Write(ref _milestoneReleasedAt, now);
        }

        _releasedAt = now;
        var next = Task.FromResult(_released.Result + 1);
        Volatile.Write(ref _released, next);
        return next;
    }
}
