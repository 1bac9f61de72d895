using System.Diagnostics;
using System.Text.Json;
using IngestLite.Progress;

namespace IngestLite.Tests.Unit;

public sealed class ProgressRegistryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private InProcessProgressRegistry _registry = null!;
    private CancellationTokenSource _timeout = null!;

    [SetUp]
    public void SetUp()
    {
        _registry = new InProcessProgressRegistry();
        _timeout = new CancellationTokenSource(Patience);
    }

    [TearDown]
    public void TearDown() => _timeout.Dispose();

    private static ProgressSnapshot Snapshot(string sessionId, long seq, DateTimeOffset? start = null) => new(
        sessionId, SessionStatus.Processing, Progress: 0, TotalFiles: 100, CurrentPath: null, CurrentStage: null, ProcessedFiles: 0,
        StartTime: start ?? Epoch, EndTime: null, SessionStats.Empty, Errors: [], ErrorDetails: [], Seq: seq,
        UpdatedAt: Epoch.AddMilliseconds(seq), FilesPerSecond: 0, EtaSeconds: null);

    /// <summary>True when the task is still pending after a short grace period.</summary>
    private static async Task<bool> StaysPending(Task task) => await Task.WhenAny(task, Task.Delay(100)) != task;

    [Test]
    public async Task A_change_is_serialized_once_however_many_readers_take_it()
    {
        var registry = new InProcessProgressRegistry();
        registry.Publish(Snapshot("json", 1));
        var subscriptions = Enumerable.Range(0, 50).Select(_ => registry.Subscribe("json")!).ToList();
        var waits = subscriptions.Select(s => s.NextAsync(1, _timeout.Token).AsTask()).ToList();
        registry.Publish(Snapshot("json", 2));
        var updates = await Task.WhenAll(waits);

        var payloads = updates.Select(u => u!.Json).ToList();
        Assert.That(payloads.Distinct(ReferenceEqualityComparer.Instance).Count(), Is.EqualTo(1), "one byte array shared by every reader");
        Assert.That(System.Text.Encoding.UTF8.GetString(payloads[0]), Does.Contain("\"seq\":2"));
        subscriptions.ForEach(s => s.Dispose());
    }

    [Test]
    public void Publish_then_Get_returns_the_snapshot()
    {
        var snapshot = Snapshot("s1", 1);

        _registry.Publish(snapshot);

        var update = _registry.Get("s1");
        Assert.That(update, Is.Not.Null);
        Assert.That(update!.Snapshot, Is.SameAs(snapshot));
        Assert.That(update.Version, Is.EqualTo(1));
        Assert.That(_registry.Version, Is.EqualTo(1));
    }

    [Test]
    public void Get_of_an_unknown_session_is_null()
    {
        Assert.That(_registry.Get("nope"), Is.Null);
    }

    [Test]
    public void Every_publish_gets_the_next_version_across_sessions()
    {
        _registry.Publish(Snapshot("a", 1));
        _registry.Publish(Snapshot("b", 1));
        _registry.Publish(Snapshot("a", 2));

        Assert.That(_registry.Get("a")!.Version, Is.EqualTo(3));
        Assert.That(_registry.Get("b")!.Version, Is.EqualTo(2));
        Assert.That(_registry.Version, Is.EqualTo(3));
    }

    [Test]
    public void A_stale_or_repeated_seq_is_ignored()
    {
        var newest = Snapshot("s1", 5);
        _registry.Publish(newest);

        _registry.Publish(Snapshot("s1", 3));
        _registry.Publish(Snapshot("s1", 5));

        Assert.That(_registry.Get("s1")!.Snapshot, Is.SameAs(newest));
        Assert.That(_registry.Version, Is.EqualTo(1));
    }

    [Test]
    public void The_json_is_snake_case_and_computed_once()
    {
        _registry.Publish(Snapshot("s1", 7));
        var update = _registry.Get("s1")!;

        using var document = JsonDocument.Parse(update.Json);

        Assert.That(document.RootElement.GetProperty("session_id").GetString(), Is.EqualTo("s1"));
        Assert.That(document.RootElement.GetProperty("seq").GetInt64(), Is.EqualTo(7));
        Assert.That(update.Json, Is.SameAs(update.Json));
    }

    [Test]
    public async Task NextAsync_returns_at_once_when_a_newer_seq_exists()
    {
        _registry.Publish(Snapshot("s1", 4));
        using var subscription = _registry.Subscribe("s1")!;

        var update = await subscription.NextAsync(3, _timeout.Token).AsTask().WaitAsync(Patience);

        Assert.That(update!.Snapshot.Seq, Is.EqualTo(4));
    }

    [Test]
    public async Task A_waiting_subscriber_is_woken_by_a_publish()
    {
        _registry.Publish(Snapshot("s1", 1));
        using var subscription = _registry.Subscribe("s1")!;

        var next = subscription.NextAsync(1, _timeout.Token).AsTask();
        Assert.That(await StaysPending(next), Is.True, "NextAsync must wait for a seq above 1");

        _registry.Publish(Snapshot("s1", 2));

        var update = await next.WaitAsync(Patience);
        Assert.That(update!.Snapshot.Seq, Is.EqualTo(2));
    }

    [Test]
    public async Task A_stale_publish_does_not_wake_a_waiting_subscriber_with_old_data()
    {
        _registry.Publish(Snapshot("s1", 5));
        using var subscription = _registry.Subscribe("s1")!;
        var next = subscription.NextAsync(5, _timeout.Token).AsTask();

        _registry.Publish(Snapshot("s1", 4));
        Assert.That(await StaysPending(next), Is.True);

        _registry.Publish(Snapshot("s1", 6));
        Assert.That((await next.WaitAsync(Patience))!.Snapshot.Seq, Is.EqualTo(6));
    }

    [Test]
    public async Task A_hundred_concurrent_readers_all_see_the_final_snapshot()
    {
        const int readers = 100;
        const long final = 1_000;
        _registry.Publish(Snapshot("s1", 0));
        var subscriptions = Enumerable.Range(0, readers).Select(_ => _registry.Subscribe("s1")!).ToList();

        var reading = subscriptions.Select(s => Task.Run(() => ReadUntil(s, final))).ToList();
        var publishing = Task.Run(() =>
        {
            for (var seq = 1; seq <= final; seq++)
            {
                _registry.Publish(Snapshot("s1", seq));
            }
        });

        await publishing.WaitAsync(Patience);
        var seen = await Task.WhenAll(reading).WaitAsync(Patience);

        var last = _registry.Get("s1")!;
        Assert.That(last.Snapshot.Seq, Is.EqualTo(final));
        Assert.That(seen, Has.All.SameAs(last));
        subscriptions.ForEach(s => s.Dispose());
        Assert.That(_registry.SubscriberCount, Is.Zero);
    }

    private async Task<ProgressUpdate?> ReadUntil(ISessionSubscription subscription, long finalSeq)
    {
        long after = 0;
        while (true)
        {
            var update = await subscription.NextAsync(after, _timeout.Token);
            if (update is null || update.Snapshot.Seq >= finalSeq)
            {
                return update;
            }

            if (update.Snapshot.Seq <= after)
            {
                throw new InvalidOperationException($"reader went from seq {after} back to {update.Snapshot.Seq}");
            }

            after = update.Snapshot.Seq;
        }
    }

    [Test]
    public async Task A_slow_reader_gets_the_latest_snapshot_not_a_backlog()
    {
        _registry.Publish(Snapshot("s1", 1));
        using var subscription = _registry.Subscribe("s1")!;
        var first = await subscription.NextAsync(0, _timeout.Token).AsTask().WaitAsync(Patience);
        Assert.That(first!.Snapshot.Seq, Is.EqualTo(1));

        var asleep = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(async () =>
        {
            await asleep.Task;
            return await subscription.NextAsync(1, _timeout.Token);
        });
        var stopwatch = Stopwatch.StartNew();
        for (var seq = 2; seq <= 10_000; seq++)
        {
            _registry.Publish(Snapshot("s1", seq));
        }

        stopwatch.Stop();
        asleep.SetResult();

        var woken = await reader.WaitAsync(Patience);
        Assert.That(woken!.Snapshot.Seq, Is.EqualTo(10_000));
        Assert.That(await StaysPending(subscription.NextAsync(10_000, _timeout.Token).AsTask()), Is.True, "nothing is queued behind the latest");
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "publishers must not wait for readers");
    }

    [Test]
    public void Subscribe_to_an_unknown_session_is_null()
    {
        Assert.That(_registry.Subscribe("nope"), Is.Null);
        Assert.That(_registry.SubscriberCount, Is.Zero);
    }

    [Test]
    public void SubscriberCount_goes_up_and_back_to_zero()
    {
        _registry.Publish(Snapshot("a", 1));
        _registry.Publish(Snapshot("b", 1));

        var first = _registry.Subscribe("a")!;
        var second = _registry.Subscribe("b")!;
        var all = _registry.SubscribeAll();
        Assert.That(_registry.SubscriberCount, Is.EqualTo(3));

        first.Dispose();
        first.Dispose();
        Assert.That(_registry.SubscriberCount, Is.EqualTo(2), "disposing twice releases once");

        second.Dispose();
        all.Dispose();
        all.Dispose();
        Assert.That(_registry.SubscriberCount, Is.Zero);
    }

    [Test]
    public async Task Remove_ends_waiting_subscribers_and_forgets_the_session()
    {
        _registry.Publish(Snapshot("s1", 1));
        using var subscription = _registry.Subscribe("s1")!;
        var next = subscription.NextAsync(1, _timeout.Token).AsTask();
        Assert.That(await StaysPending(next), Is.True);

        Assert.That(_registry.Remove("s1"), Is.True);

        Assert.That(await next.WaitAsync(Patience), Is.Null);
        Assert.That(await subscription.NextAsync(0, _timeout.Token), Is.Null, "a removed session has no next update");
        Assert.That(_registry.Get("s1"), Is.Null);
        Assert.That(_registry.All(), Is.Empty);
        Assert.That(_registry.Subscribe("s1"), Is.Null);
        Assert.That(_registry.Remove("s1"), Is.False);
    }

    [Test]
    public void Remove_of_an_unknown_session_changes_nothing()
    {
        Assert.That(_registry.Remove("nope"), Is.False);
        Assert.That(_registry.Version, Is.Zero);
    }

    [Test]
    public async Task A_removed_session_can_be_published_again()
    {
        _registry.Publish(Snapshot("s1", 9));
        _registry.Remove("s1");

        _registry.Publish(Snapshot("s1", 1));

        Assert.That(_registry.Get("s1")!.Snapshot.Seq, Is.EqualTo(1));
        using var subscription = _registry.Subscribe("s1")!;
        Assert.That((await subscription.NextAsync(0, _timeout.Token))!.Snapshot.Seq, Is.EqualTo(1));
    }

    [Test]
    public async Task SubscribeAll_completes_on_a_publish_to_any_session()
    {
        _registry.Publish(Snapshot("a", 1));
        using var all = _registry.SubscribeAll();
        var version = _registry.Version;
        var wait = all.WaitAsync(version, _timeout.Token).AsTask();
        Assert.That(await StaysPending(wait), Is.True);

        _registry.Publish(Snapshot("b", 1));

        await wait.WaitAsync(Patience);
        Assert.That(_registry.Version, Is.GreaterThan(version));
    }

    [Test]
    public async Task SubscribeAll_completes_at_once_when_the_version_already_passed()
    {
        _registry.Publish(Snapshot("a", 1));
        _registry.Publish(Snapshot("a", 2));
        using var all = _registry.SubscribeAll();

        await all.WaitAsync(1, _timeout.Token).AsTask().WaitAsync(Patience);
    }

    [Test]
    public async Task SubscribeAll_is_woken_by_a_remove()
    {
        _registry.Publish(Snapshot("a", 1));
        using var all = _registry.SubscribeAll();
        var wait = all.WaitAsync(_registry.Version, _timeout.Token).AsTask();

        _registry.Remove("a");

        await wait.WaitAsync(Patience);
    }

    [Test]
    public async Task A_cancelled_wait_throws_and_leaves_the_subscription_usable()
    {
        _registry.Publish(Snapshot("s1", 1));
        using var subscription = _registry.Subscribe("s1")!;
        using var cancel = new CancellationTokenSource();
        var next = subscription.NextAsync(1, cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThatAsync(() => next.WaitAsync(Patience), Throws.InstanceOf<OperationCanceledException>());
        _registry.Publish(Snapshot("s1", 2));
        Assert.That((await subscription.NextAsync(1, _timeout.Token))!.Snapshot.Seq, Is.EqualTo(2));
    }

    [Test]
    public void All_lists_sessions_newest_first()
    {
        _registry.Publish(Snapshot("old", 1, Epoch));
        _registry.Publish(Snapshot("new", 1, Epoch.AddHours(1)));
        _registry.Publish(Snapshot("mid-b", 1, Epoch.AddMinutes(30)));
        _registry.Publish(Snapshot("mid-a", 1, Epoch.AddMinutes(30)));

        Assert.That(_registry.All().Select(u => u.Snapshot.SessionId), Is.EqualTo(new[] { "new", "mid-b", "mid-a", "old" }));
    }

    [Test]
    public void Streams_sending_within_the_window_take_the_same_update_and_a_final_state_is_never_replaced()
    {
        var pacing = new SessionPacing(_registry);
        _registry.Publish(Snapshot("s1", 1));
        var first = _registry.Get("s1")!;
        var sampler = pacing.For("s1");
        Assert.That(sampler.Take(first, afterSeq: 0, now: 1_000, window: 20), Is.SameAs(first), "the first stream takes the latest");

        _registry.Publish(Snapshot("s1", 2));
        var second = _registry.Get("s1")!;
        Assert.That(pacing.For("s1"), Is.SameAs(sampler), "one sampler per session");
        Assert.That(sampler.Take(second, afterSeq: 0, now: 1_010, window: 20), Is.SameAs(first), "a stream a moment later takes the same update");
        Assert.That(sampler.Take(second, afterSeq: 1, now: 1_010, window: 20), Is.SameAs(second), "but never one it already sent");
        Assert.That(sampler.Take(second, afterSeq: 0, now: 1_040, window: 20), Is.SameAs(second), "after the window, the latest again");

        _registry.Publish(Snapshot("s1", 3) with { Status = SessionStatus.Completed });
        var final = _registry.Get("s1")!;
        Assert.That(sampler.Take(final, afterSeq: 0, now: 1_041, window: 20), Is.SameAs(final), "a final state goes out as it is");
    }

    [Test]
    public void Pacing_keeps_no_sampler_of_a_session_the_registry_let_go_beyond_twice_what_it_holds()
    {
        var pacing = new SessionPacing(_registry);
        for (var i = 0; i < 1000; i++)
        {
            var id = $"gone-{i}";
            _registry.Publish(Snapshot(id, 1));
            pacing.For(id);
            _registry.Remove(id);
        }

        _registry.Publish(Snapshot("kept", 1));
        var kept = pacing.For("kept");
        Assert.That(pacing.Count, Is.LessThanOrEqualTo(64), "samplers of sessions no longer held are swept");
        Assert.That(pacing.For("kept"), Is.SameAs(kept), "a held session keeps its sampler");
    }

    [Test]
    public void Milestones_count_a_sessions_first_update_and_every_change_of_its_count_or_status_not_its_stages()
    {
        _registry.Publish(Snapshot("m1", 1));
        _registry.Publish(Snapshot("m1", 2) with { CurrentStage = "hash" });
        Assert.That(_registry.Get("m1")!.Milestones, Is.EqualTo(1), "a stage is no milestone");
        _registry.Publish(Snapshot("m1", 3) with { ProcessedFiles = 1 });
        _registry.Publish(Snapshot("m1", 4) with { ProcessedFiles = 1, Status = SessionStatus.Completed });

        Assert.That(_registry.Get("m1")!.Milestones, Is.EqualTo(3));
        Assert.That(_registry.Milestones, Is.EqualTo(3), "the registry counts the same milestones");
    }

    [Test]
    public void Publishing_again_after_a_remove_starts_a_fresh_session_even_with_the_same_id_string()
    {
        var first = Snapshot("s1", 5);
        _registry.Publish(first);
        Assert.That(_registry.Remove("s1"), Is.True);

        _registry.Publish(first with { Seq = 1 });

        Assert.That(_registry.Get("s1")?.Snapshot.Seq, Is.EqualTo(1), "the removed entry (and its seq 5) is gone");
    }
}
