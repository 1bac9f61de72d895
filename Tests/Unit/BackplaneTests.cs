using IngestLite.Progress;
using IngestLite.Tests.Support;
using Npgsql;

namespace IngestLite.Tests.Unit;

/// <summary>
/// Two nodes' registries on one PostgreSQL database (<see cref="PostgresProgressRegistry"/>): what one publishes the
/// other holds, at the same global version; busy sessions are conflated at the source; a final state always goes out;
/// a node that was away catches up from the table.
/// </summary>
[NonParallelizable]
public sealed class BackplaneTests
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private PostgresDatabase _database = null!;
    private readonly List<PostgresProgressRegistry> _nodes = [];

    [SetUp]
    public async Task SetUp() => _database = await PostgresDatabase.CreateAsync();

    [TearDown]
    public async Task TearDown()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        _nodes.Clear();
        await _database.DisposeAsync();
    }

    private async Task<PostgresProgressRegistry> StartNodeAsync(string name, TimeSpan? lease = null)
    {
        var node = await BackplaneNode.StartAsync(_database.ConnectionString, name, lease);
        _nodes.Add(node);
        return node;
    }

    private static ProgressSnapshot Snapshot(string sessionId, long seq, SessionStatus status = SessionStatus.Processing) => new(
        sessionId, status, Progress: 0, TotalFiles: 100_000, CurrentPath: $"run/{seq}.png", CurrentStage: null, ProcessedFiles: (int)seq,
        StartTime: Epoch, EndTime: null, SessionStats.Empty, Errors: [], ErrorDetails: [], Seq: seq,
        UpdatedAt: Epoch.AddMilliseconds(seq), FilesPerSecond: 0, EtaSeconds: null);

    private static async Task<ProgressUpdate> WaitForAsync(IProgressRegistry node, string sessionId, Func<ProgressUpdate, bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        using var all = node.SubscribeAll();
        while (true)
        {
            var observed = node.Version;
            if (node.Get(sessionId) is { } update && condition(update))
            {
                return update;
            }

            await all.WaitAsync(observed, timeout.Token);
        }
    }

    [Test]
    public async Task What_one_node_publishes_the_other_holds_at_the_same_global_version()
    {
        var worker = await StartNodeAsync("worker");
        var web = await StartNodeAsync("web");

        worker.Publish(Snapshot("s1", 1));
        var seen = await WaitForAsync(web, "s1", u => u.Snapshot.Seq == 1);
        var own = await WaitForAsync(worker, "s1", u => u.Version > 0);

        Assert.That(seen.Snapshot.CurrentPath, Is.EqualTo("run/1.png"));
        Assert.That(seen.Version, Is.EqualTo(own.Version), "the multiplexed stream's id of one change is the same on every node");
        Assert.That(web.Version, Is.EqualTo(worker.Version));

        // The publisher's own streams see a change before it is written (its session stream at once).
        worker.Publish(Snapshot("s1", 2));
        Assert.That(worker.Get("s1")!.Snapshot.Seq, Is.EqualTo(2));
    }

    [Test]
    public async Task A_session_changing_continuously_is_conflated_at_the_source_and_its_final_state_always_goes_out()
    {
        var worker = await StartNodeAsync("worker");
        var web = await StartNodeAsync("web");
        var (listener, payloads) = await ListenAsync();
        await using var _ = listener;

        // 20,000 changes as fast as this thread publishes them, then the final one.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        const int Changes = 20_000;
        for (var seq = 1; seq <= Changes; seq++)
        {
            worker.Publish(Snapshot("busy", seq));
        }

        worker.Publish(Snapshot("busy", Changes + 1, SessionStatus.Completed));
        var final = await WaitForAsync(web, "busy", u => u.Snapshot.Status == SessionStatus.Completed);
        clock.Stop();
        await WaitForPayloadAsync(listener, payloads, $"busy {Changes + 1} ");

        // The writer's promise: the first change at once, two more milestones (new counts) at once from its token
        // bucket, then one per 100 ms, and the final state always.
        var allowed = 1 + 2 + (int)(clock.Elapsed / TimeSpan.FromMilliseconds(100)) + 1;
        TestContext.Out.WriteLine($"{Changes + 1} changes in {clock.Elapsed.TotalMilliseconds:F0} ms to the other node: {payloads.Count} NOTIFYs");
        Assert.That(final.Snapshot.Seq, Is.EqualTo(Changes + 1));
        Assert.That(payloads, Has.Count.InRange(1, allowed), $"{Changes} changes in {clock.Elapsed.TotalMilliseconds:F0} ms: at most one NOTIFY per 100 ms, plus the first, two saved up and the last");
    }

    [Test]
    public async Task The_running_sessions_of_a_node_whose_lease_lapsed_are_orphans_and_a_live_nodes_never_are()
    {
        var worker = await StartNodeAsync("worker");
        worker.Publish(Snapshot("running", 1));
        worker.Publish(Snapshot("finished", 2, SessionStatus.Completed));
        worker.Publish(Snapshot("queued", 1, SessionStatus.Starting));
        await worker.FlushAsync(CancellationToken.None);
        var web = await StartNodeAsync("web");
        Assert.That(await web.OrphansAsync(CancellationToken.None), Is.Empty, "the worker renews its lease");

        // Killed: it renews no more. A node that judges leases of 1 s soon finds its running session, and only that one.
        await worker.DisposeAsync();
        _nodes.Remove(worker);
        var judge = await StartNodeAsync("judge", lease: TimeSpan.FromSeconds(1));
        using var timeout = new CancellationTokenSource(Patience);
        IReadOnlyList<string> orphans;
        while ((orphans = await judge.OrphansAsync(timeout.Token)).Count == 0)
        {
            await Task.Delay(100, timeout.Token);
        }

        Assert.That(orphans, Is.EqualTo(new[] { "running" }));
        Assert.That(await web.OrphansAsync(CancellationToken.None), Is.Empty, "with a 30 s lease, the worker is not gone yet");
    }

    [Test]
    public async Task Pruning_forgets_sessions_that_ended_before_the_retention_and_keeps_the_running_ones()
    {
        var worker = await StartNodeAsync("worker");
        worker.Publish(Snapshot("ended", 1, SessionStatus.Completed));
        worker.Publish(Snapshot("running", 1));
        await worker.FlushAsync(CancellationToken.None);

        await worker.PruneAsync(TimeSpan.FromHours(1), CancellationToken.None);
        Assert.That((await StartNodeAsync("before")).Get("ended"), Is.Not.Null, "ended a moment ago: within the retention");

        await worker.PruneAsync(TimeSpan.Zero, CancellationToken.None);
        var late = await StartNodeAsync("late");
        Assert.That(late.Get("ended"), Is.Null, "ended before the retention: gone from the table (its history is the catalog's)");
        Assert.That(late.Get("running"), Is.Not.Null, "a running session is never pruned");
    }

    /// <summary>A connection of the test's own, listening as the nodes do, and the payloads it has heard.</summary>
    private async Task<(NpgsqlConnection Listener, List<string> Payloads)> ListenAsync()
    {
        var payloads = new List<string>();
        var listener = new NpgsqlConnection(_database.ConnectionString);
        await listener.OpenAsync();
        listener.Notification += (_, e) => payloads.Add(e.Payload);
        await using var listen = new NpgsqlCommand($"LISTEN {PostgresProgressRegistry.Channel}", listener);
        await listen.ExecuteNonQueryAsync();
        return (listener, payloads);
    }

    private static async Task WaitForPayloadAsync(NpgsqlConnection listener, List<string> payloads, string prefix)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!payloads.Any(p => p.StartsWith(prefix, StringComparison.Ordinal)))
        {
            await listener.WaitAsync(timeout.Token);
        }
    }

    [Test]
    public async Task A_deletion_reaches_every_node_and_a_node_that_was_away_catches_up_from_the_table()
    {
        var worker = await StartNodeAsync("worker");
        var web = await StartNodeAsync("web");
        worker.Publish(Snapshot("gone", 1));
        worker.Publish(Snapshot("kept", 1));
        await WaitForAsync(web, "kept", _ => true);
        await WaitForAsync(web, "gone", _ => true);

        Assert.That(web.Remove("gone"), Is.True);
        using (var timeout = new CancellationTokenSource(Patience))
        {
            while (worker.Get("gone") is not null)
            {
                await Task.Delay(10, timeout.Token);
            }
        }

        Assert.That(worker.IsDeleted("gone"), Is.True, "the multiplexed streams of the other node announce the removal");

        // A node started later holds what the table holds, the deleted session excepted.
        worker.Publish(Snapshot("kept", 2, SessionStatus.Completed));
        await WaitForAsync(web, "kept", u => u.Snapshot.Seq == 2);
        var late = await StartNodeAsync("late");
        Assert.That(late.Get("kept")?.Snapshot.Status, Is.EqualTo(SessionStatus.Completed));
        Assert.That(late.Get("gone"), Is.Null);
        Assert.That(late.Version, Is.EqualTo(web.Version));
    }

    [Test]
    public async Task The_notification_is_a_compact_reference_never_the_snapshot()
    {
        var worker = await StartNodeAsync("worker");
        var (listener, payloads) = await ListenAsync();
        await using var _ = listener;
        var big = Snapshot("big", 1) with { Message = new string('x', 20_000) };
        worker.Publish(big);
        await WaitForPayloadAsync(listener, payloads, "big ");
        Assert.That(payloads[0], Does.Match(@"^big 1 \d+$"), "session id, seq and version only");
    }
}
