using IngestLite.Jobs;
using IngestLite.Progress;

namespace IngestLite.Tests.Unit;

/// <summary>Per-session cancel requests: honoured before the job starts, forgotten once its run ends.</summary>
public sealed class SessionControlTests
{
    private static SessionProgress Progress(string id) =>
        new(new ProgressSnapshot(id, SessionStatus.Starting, 0, 1, null, null, 0, DateTimeOffset.UnixEpoch, null, SessionStats.Empty, [], [], 0, DateTimeOffset.UnixEpoch, 0, null), null, TimeProvider.System);

    [Test]
    public void A_cancel_requested_before_the_run_starts_stops_it_and_is_cleared_when_the_run_ends()
    {
        var control = new SessionControl();
        control.Cancel("s");

        var run = control.Begin("s", Progress("s"), CancellationToken.None);
        Assert.That(run.Token.IsCancellationRequested, Is.True, "a cancel queued before the job started still stops it");
        Assert.That(control.WasCancelled("s"), Is.True, "the run can tell it was cancelled, not interrupted");
        run.Dispose();

        Assert.That(control.WasCancelled("s"), Is.False, "the flag is cleared once the session's run ends");
        using var next = control.Begin("s", Progress("s"), CancellationToken.None);
        Assert.That(next.Token.IsCancellationRequested, Is.False, "a later run of the session is not cancelled by an old request");
    }
}
