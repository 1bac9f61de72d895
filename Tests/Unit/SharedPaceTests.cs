using IngestLite.Progress;
using Microsoft.Extensions.Time.Testing;

namespace IngestLite.Tests.Unit;

/// <summary>The pace shared by the streams of one session (or of the multiplexed stream), on a fake clock.</summary>
public sealed class SharedPaceTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    private readonly StreamOptions _options = new() { MinEventInterval = 100 * Ms, QuietPeriod = 10 * Ms };
    private FakeTimeProvider _time = null!;
    private SharedPace _pace = null!;
    private long _version;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _pace = new SharedPace();
        _version = 1;
    }

    private Task<long> Wait(long sentGeneration) => _pace.WaitAsync(sentGeneration, () => _version, _options, _time);

    [Test]
    public void A_change_after_a_quiet_spell_is_released_at_once()
    {
        var first = Wait(0);
        Assert.That(first.IsCompletedSuccessfully && first.Result == 1, "the first change waits for nothing");

        _time.Advance(150 * Ms);
        _version++;
        var next = Wait(first.Result);
        Assert.That(next.IsCompletedSuccessfully && next.Result == 2, "a change more than MinEventInterval after the last release waits for nothing");
    }

    [Test]
    public void Streams_that_have_not_sent_the_last_release_go_at_once_without_a_new_one()
    {
        var released = Wait(0).Result;
        var behind = Wait(0);

        Assert.That(behind.IsCompletedSuccessfully, Is.True);
        Assert.That(behind.Result, Is.EqualTo(released));
        Assert.That(_pace.Generation, Is.EqualTo(1), "one release for both streams");
    }

    [Test]
    public void Within_the_interval_streams_share_one_wait_that_ends_once_the_changes_pause()
    {
        var released = Wait(0).Result;
        _time.Advance(5 * Ms);
        _version++;

        var a = Wait(released);
        var b = Wait(released);
        Assert.That(b, Is.SameAs(a), "every stream waits on the same release");
        Assert.That(a.IsCompleted, Is.False, "a change 5 ms after a release is held back");

        _time.Advance(9 * Ms);
        Assert.That(a.IsCompleted, Is.False);
        _time.Advance(Ms);
        Assert.That(a.IsCompletedSuccessfully && a.Result == released + 1, "nothing changed during the quiet period: released after it");
    }

    [Test]
    public void A_session_that_never_pauses_is_released_once_per_interval([Values(0, 30, 99)] int sinceRelease)
    {
        var released = Wait(0).Result;
        _time.Advance(sinceRelease * Ms);
        _version++;
        var next = Wait(released);

        var elapsed = sinceRelease;
        while (!next.IsCompleted && elapsed < 200)
        {
            _time.Advance(Ms);
            elapsed++;
            _version++;
        }

        Assert.That(elapsed, Is.EqualTo(100), "released exactly MinEventInterval after the last release");
        Assert.That(next.Result, Is.EqualTo(released + 1));
    }

    [Test]
    public void A_final_state_ends_the_wait_at_the_next_look()
    {
        var released = Wait(0).Result;
        _version++;
        var next = Wait(released);

        _version = -1;
        _time.Advance(10 * Ms);
        Assert.That(next.IsCompletedSuccessfully, Is.True, "not held for the rest of the interval");
    }

    [Test]
    public void The_next_wait_after_a_shared_one_starts_a_new_one()
    {
        var released = Wait(0).Result;
        _version++;
        var shared = Wait(released);
        _time.Advance(10 * Ms);
        Assert.That(shared.IsCompletedSuccessfully, Is.True);

        _version++;
        var next = Wait(shared.Result);
        Assert.That(next, Is.Not.SameAs(shared));
        Assert.That(next.IsCompleted, Is.False, "10 ms after a release, the next change waits again");
        _time.Advance(10 * Ms);
        Assert.That(next.IsCompletedSuccessfully && next.Result == shared.Result + 1);
    }

    [Test]
    public void A_wait_that_starts_on_a_final_state_ends_at_once_and_pacing_goes_on_after_it()
    {
        var released = Wait(0).Result;
        _version = -1;
        var final = Wait(released);
        Assert.That(final.IsCompletedSuccessfully, Is.True, "a final state is never held back");

        // The same pace (say, the session is published again after a restart) still paces the next burst.
        _version = 5;
        var next = Wait(final.Result);
        Assert.That(next.IsCompleted, Is.False, "a change right after a release waits again");
        _time.Advance(10 * Ms);
        Assert.That(next.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void A_wait_begun_in_the_last_millisecond_of_the_interval_leaves_the_pace_working()
    {
        // Task.Delay completes synchronously below a millisecond; such a wait must not stay the shared one.
        var released = Wait(0).Result;
        _time.Advance(TimeSpan.FromMilliseconds(99.5));
        _version++;
        var late = Wait(released);
        _time.Advance(Ms);
        Assert.That(late.IsCompletedSuccessfully, Is.True);

        _time.Advance(5 * Ms);
        _version++;
        var next = Wait(late.Result);
        Assert.That(next.IsCompleted, Is.False, "5 ms after a release, a change waits for the pace");
        _time.Advance(10 * Ms);
        Assert.That(next.IsCompletedSuccessfully && next.Result == late.Result + 1);
    }

    [Test]
    public void A_milestone_within_the_interval_is_released_at_once_and_only_once_per_interval()
    {
        long milestone = 0;
        Task<long> WaitFor(long sent) => _pace.WaitAsync(sent, () => _version, _options, _time, () => milestone);

        var released = WaitFor(0).Result;
        _time.Advance(5 * Ms);
        _version++;
        milestone++;
        var finished = WaitFor(released);
        Assert.That(finished.IsCompletedSuccessfully && finished.Result == released + 1, "a file that finished 5 ms after a release goes out at once");

        // A second milestone within half the interval of the first waits for the pace, as any change does.
        _time.Advance(20 * Ms);
        _version++;
        milestone++;
        var second = WaitFor(finished.Result);
        Assert.That(second.IsCompleted, Is.False, "at most one milestone release per half MinEventInterval");
        _time.Advance(10 * Ms);
        Assert.That(second.IsCompletedSuccessfully, Is.True, "then it goes out when the changes pause");
    }

    [Test]
    public void A_milestone_during_a_running_wait_ends_it_within_a_look()
    {
        long milestone = 0;
        Task<long> WaitFor(long sent) => _pace.WaitAsync(sent, () => _version, _options, _time, () => milestone);

        var released = WaitFor(0).Result;
        _time.Advance(2 * Ms);
        _version++;
        var stages = WaitFor(released);
        Assert.That(stages.IsCompleted, Is.False, "a stage change 2 ms after a release waits for the burst to pause");

        _time.Advance(4 * Ms);
        _version++;
        milestone++;
        Assert.That(stages.IsCompleted, Is.False, "looks come every 2 ms");
        _time.Advance(SharedPace.MilestoneLook);
        Assert.That(stages.IsCompletedSuccessfully && stages.Result == released + 1, "the file's end ended the wait at the next look, not after the quiet period");
    }

    [Test]
    public void Milestones_never_release_more_than_three_times_per_interval()
    {
        long milestone = 0;
        var releases = 0;
        var sent = _pace.WaitAsync(0, () => _version, _options, _time, () => milestone).Result;
        for (var ms = 0; ms < 1000; ms++)
        {
            _time.Advance(Ms);
            _version++;
            milestone++;
            var next = _pace.WaitAsync(sent, () => _version, _options, _time, () => milestone);
            if (next.IsCompletedSuccessfully)
            {
                releases += next.Result > sent ? 1 : 0;
                sent = next.Result;
            }
        }

        Assert.That(releases, Is.InRange(10, 30), "a file finishing every millisecond for a second: at most 3 releases per 100 ms");
    }
}
