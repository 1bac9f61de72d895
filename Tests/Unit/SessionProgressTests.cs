using IngestLite.Jobs;
using IngestLite.Progress;
using Microsoft.Extensions.Time.Testing;

namespace IngestLite.Tests.Unit;

/// <summary>The job's side of progress once a session has ended.</summary>
public sealed class SessionProgressTests
{
    [Test]
    public void A_stage_reported_after_the_end_changes_nothing()
    {
        var registry = new InProcessProgressRegistry();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var start = new ProgressSnapshot("s", SessionStatus.Processing, 0, 2, null, null, 0, time.GetUtcNow(), null, SessionStats.Empty, [], [], 0, time.GetUtcNow(), 0, null);
        var progress = new SessionProgress(start, registry, time);
        progress.SetStage("a.png", "hash");
        var final = progress.Finish(SessionStatus.Cancelled);

        // An abandoned file's work (timed out or cancelled) may still report a stage afterwards.
        progress.SetStage("a.png", "phash");

        Assert.That(progress.Current, Is.SameAs(final), "the final snapshot stays the session's last state");
        var published = registry.Get("s")!.Snapshot;
        Assert.That(published.Seq, Is.EqualTo(final.Seq), "nothing is published after the final state");
        Assert.That(published.CurrentStage, Is.Null, "a finished session shows no current stage");
    }
}
