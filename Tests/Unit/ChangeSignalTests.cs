using System.Diagnostics;
using IngestLite.Progress;
using Microsoft.Extensions.Time.Testing;

namespace IngestLite.Tests.Unit;

/// <summary>The reusable per-reader wait behind every stream: wake-ups, timeouts on a fake clock, cancellation, garbage.</summary>
public sealed class ChangeSignalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private ChangeSignal _signal = null!;
    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp()
    {
        _signal = new ChangeSignal();
        _time = new FakeTimeProvider();
    }

    /// <summary>A reader whose condition is a flag the test sets.</summary>
    private sealed class Flag(ChangeSignal signal) : ChangeWaiter(signal)
    {
        public volatile bool Value;

        public ValueTask<bool> Wait(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken = default) =>
            WaitAsync(0, timeout, time, cancellationToken);

        protected override bool Ready(long after) => Value;
    }

    /// <summary>Makes the reader's condition hold, notifies, and checks the wait ended true.</summary>
    private async Task EndByChangeAsync(Flag reader, ValueTask<bool> wait)
    {
        reader.Value = true;
        _signal.Notify();
        Assert.That(await wait.AsTask().WaitAsync(Patience), Is.True);
    }

    /// <summary>True when the task is still pending after a short grace period (wake-ups run on the thread pool).</summary>
    private static async Task<bool> StaysPending(Task task) => await Task.WhenAny(task, Task.Delay(100)) != task;

    [Test]
    public async Task A_change_wakes_every_waiter_and_a_change_already_seen_wakes_none()
    {
        var readers = Enumerable.Range(0, 20).Select(_ => new Flag(_signal)).ToList();
        var waits = readers.Select(r => r.Wait(Timeout.InfiniteTimeSpan, _time).AsTask()).ToList();
        Assert.That(_signal.Count, Is.EqualTo(20));

        // A notify whose change the readers had already seen: they keep waiting, still listed.
        _signal.Notify();
        Assert.That(await StaysPending(Task.WhenAny(waits)), Is.True, "no reader wakes for nothing");
        Assert.That(_signal.Count, Is.EqualTo(20), "the readers wait on, listed again");

        readers.ForEach(r => r.Value = true);
        _signal.Notify();
        Assert.That(await Task.WhenAll(waits).WaitAsync(Patience), Is.All.True);
        Assert.That(_signal.Count, Is.Zero);
    }

    [Test]
    public void A_wait_whose_condition_already_holds_completes_at_once_and_is_not_listed()
    {
        var reader = new Flag(_signal) { Value = true };

        var wait = reader.Wait(Second, _time);

        Assert.That(wait.IsCompletedSuccessfully && wait.Result, Is.True);
        Assert.That(_signal.Count, Is.Zero);
    }

    [Test]
    public void A_wait_times_out_at_its_deadline_and_not_before()
    {
        var reader = new Flag(_signal);
        var wait = reader.Wait(10 * Second, _time);

        _time.Advance(9.9 * Second);
        Assert.That(wait.IsCompleted, Is.False);

        _time.Advance(0.1 * Second);
        Assert.That(wait.IsCompletedSuccessfully && !wait.Result, Is.True, "false: timed out");
    }

    [Test]
    public async Task A_later_wait_is_not_ended_by_the_timer_of_an_earlier_one()
    {
        // Wait 1 ends by a change at 3 s; its timer (due at 10 s) is kept, not moved. Wait 2 starts at 3 s
        // with 10 s: the timer firing at 10 s must re-arm for 13 s, not end wait 2.
        var reader = new Flag(_signal);
        var first = reader.Wait(10 * Second, _time);
        _time.Advance(3 * Second);
        await EndByChangeAsync(reader, first);

        reader.Value = false;
        var second = reader.Wait(10 * Second, _time);
        _time.Advance(7 * Second);
        Assert.That(second.IsCompleted, Is.False, "at 10 s, 7 s into a 10 s wait");

        _time.Advance(3 * Second);
        Assert.That(second.IsCompletedSuccessfully && !second.Result, Is.True, "timed out at 13 s");
    }

    [Test]
    public async Task A_shorter_timeout_after_a_longer_one_moves_the_timer_earlier()
    {
        var reader = new Flag(_signal);
        var first = reader.Wait(15 * Second, _time);
        await EndByChangeAsync(reader, first);

        reader.Value = false;
        var second = reader.Wait(2 * Second, _time);
        _time.Advance(2 * Second);
        Assert.That(second.IsCompletedSuccessfully && !second.Result, Is.True, "timed out after 2 s, not 15");
    }

    [Test]
    public async Task Cancelling_ends_the_wait_and_the_waiter_can_wait_again_with_another_token()
    {
        var reader = new Flag(_signal);
        using var cancel = new CancellationTokenSource();
        var wait = reader.Wait(Timeout.InfiniteTimeSpan, _time, cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThatAsync(() => wait.WaitAsync(Patience), Throws.InstanceOf<OperationCanceledException>());
        Assert.Throws<OperationCanceledException>(() => reader.Wait(Second, _time, cancel.Token));
        var again = reader.Wait(Second, _time);
        _time.Advance(Second);
        Assert.That(again.IsCompletedSuccessfully && !again.Result, Is.True);
    }

    [Test]
    public void A_disposed_waiter_is_no_longer_held_by_the_signal()
    {
        var readers = Enumerable.Range(0, 5).Select(_ => new Flag(_signal)).ToList();
        readers.ForEach(r => _ = r.Wait(Timeout.InfiniteTimeSpan, _time));

        readers[1].Dispose();
        readers[4].Dispose();

        Assert.That(_signal.Count, Is.EqualTo(3), "a stream that ends on an idle session must not stay referenced until its next change");
    }

    [Test]
    public async Task A_token_from_an_earlier_wait_does_not_cancel_a_later_one()
    {
        var reader = new Flag(_signal);
        using var first = new CancellationTokenSource();
        var wait = reader.Wait(Timeout.InfiniteTimeSpan, _time, first.Token);
        await EndByChangeAsync(reader, wait);

        reader.Value = false;
        var later = reader.Wait(Timeout.InfiniteTimeSpan, _time, CancellationToken.None).AsTask();
        await first.CancelAsync();

        Assert.That(await StaysPending(later), Is.True, "cancelling the first wait's token must not end the second");
        reader.Value = true;
        _signal.Notify();
        Assert.That(await later.WaitAsync(Patience), Is.True);
    }

    [Test]
    public async Task Disposing_ends_a_pending_wait_and_refuses_new_ones()
    {
        var reader = new Flag(_signal);
        var wait = reader.Wait(Timeout.InfiniteTimeSpan, _time).AsTask();

        reader.Dispose();

        await Assert.ThatAsync(() => wait.WaitAsync(Patience), Throws.InstanceOf<ObjectDisposedException>());
        Assert.Throws<ObjectDisposedException>(() => reader.Wait(Second, _time));
        Assert.That(_signal.Count, Is.Zero);
    }

    [Test]
    public async Task Under_racing_changes_no_wake_up_is_lost_and_none_comes_early()
    {
        // A shared counter; each reader waits for a value above the one it saw. A reader woken while the counter
        // is still at what it saw (a late wake-up meant for an earlier wait) fails; a lost wake-up hangs (watchdog).
        const int Readers = 8;
        const int Rounds = 1000;
        var counter = 0L;
        var early = 0;
        var acks = 0;
        var readers = Enumerable.Range(0, Readers).Select(_ => new Counter(_signal, () => Volatile.Read(ref counter))).ToList();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var loops = readers.Select(r => Task.Run(async () =>
        {
            var seen = 0L;
            while (seen < Rounds)
            {
                // Short timeouts now and then, so timer completions race with wake-ups too.
                var timeout = seen % 7 == 0 ? TimeSpan.FromMilliseconds(1) : Timeout.InfiniteTimeSpan;
                if (await r.Wait(seen, timeout, stop.Token))
                {
                    var now = Volatile.Read(ref counter);
                    if (now <= seen)
                    {
                        Interlocked.Increment(ref early);
                    }

                    seen = now;
                    Interlocked.Increment(ref acks);
                }
            }
        })).ToList();

        for (var k = 1; k <= Rounds; k++)
        {
            // Two notifies per change: the second one's wake-up often arrives after the reader has moved on to its next wait.
            var before = Volatile.Read(ref acks);
            Interlocked.Exchange(ref counter, k);
            _signal.Notify();
            _signal.Notify();
            var watchdog = Stopwatch.StartNew();
            while (Volatile.Read(ref acks) - before < Readers && watchdog.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Yield();
            }

            Assert.That(Volatile.Read(ref acks) - before, Is.GreaterThanOrEqualTo(Readers), $"a wake-up was lost at change {k}");
        }

        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(early, Is.Zero, "a wait ended true although nothing new had happened");
    }

    private sealed class Counter(ChangeSignal signal, Func<long> value) : ChangeWaiter(signal)
    {
        public ValueTask<bool> Wait(long after, TimeSpan timeout, CancellationToken cancellationToken) =>
            WaitAsync(after, timeout, TimeProvider.System, cancellationToken);

        protected override bool Ready(long after)
        {
            // Widen the window between reading the condition and completing the wait.
            Thread.SpinWait(20);
            return value() > after;
        }
    }

    [Test]
    public async Task Waiting_and_waking_allocate_nothing_per_wait()
    {
        var reader = new Flag(_signal);

        async Task<long> CycleAsync(int times)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < times; i++)
            {
                reader.Value = false;
                var wait = reader.Wait(15 * Second, TimeProvider.System);
                reader.Value = true;
                _signal.Notify();
                await wait;
            }

            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        await CycleAsync(100);

        // The count is process-wide (the wake-ups run on pool threads), so the test runner's own threads add to it
        // now and then: the least of five batches is the waits' own cost. A wait built from Task.WaitAsync (a
        // promise, a timer, a registration) costs hundreds of bytes in every batch.
        var allocated = long.MaxValue;
        for (var batch = 0; batch < 5; batch++)
        {
            allocated = Math.Min(allocated, await CycleAsync(1000));
        }

        TestContext.Out.WriteLine($"{allocated} bytes for 1000 waits");
        Assert.That(allocated / 1000.0, Is.LessThan(64), $"{allocated} bytes for 1000 waits (least of five batches)");
    }
}
