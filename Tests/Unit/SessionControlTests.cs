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

    [Test]
    public void Requests_of_sessions_that_ended_without_a_run_here_are_forgotten_and_the_others_kept()
    {
        var registry = new InProcessProgressRegistry();
        var control = new SessionControl(registry);
        registry.Publish(Progress("elsewhere").Current with { Status = SessionStatus.Processing, Seq = 1 });
        registry.Publish(Progress("waiting").Current with { Seq = 1 });
        control.Cancel("elsewhere");
        control.Cancel("waiting");
        control.Delete("gone");

        // The run of "elsewhere" ended on another node: its final state arrives, no run here ever cleared the request.
        registry.Publish(Progress("elsewhere").Current with { Status = SessionStatus.Cancelled, Seq = 2 });
        control.Cancel("next");

        Assert.Multiple(() =>
        {
            Assert.That(control.WasCancelled("elsewhere"), Is.False, "ended, with no run here");
            Assert.That(control.WasCancelled("waiting"), Is.True, "its job is still to come");
            Assert.That(control.WasCancelled("gone"), Is.True, "a deleted session's job must not publish");
            Assert.That(control.WasCancelled("next"), Is.True);
        });
    }
}
