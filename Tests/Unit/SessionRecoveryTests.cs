using IngestLite.Catalog;
using IngestLite.Jobs;
using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace IngestLite.Tests.Unit;

/// <summary>
/// Crash recovery (SessionLifecycle start-up) on a real catalog: the counters of a session left running
/// must mean what they meant live.
/// </summary>
[TestFixture(CatalogBackend.Sqlite)]
[TestFixture(CatalogBackend.PostgreSql)]
public sealed class SessionRecoveryTests(CatalogBackend backend)
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private TempDirectory _dir = null!;
    private TestCatalog _catalogDatabase = null!;
    private CatalogDatabase _database = null!;
    private SessionStore _catalog = null!;
    private FakeTimeProvider _time = null!;
    private IOptions<IngestOptions> _options = null!;

    [SetUp]
    public async Task SetUp()
    {
        _dir = new TempDirectory();
        _time = new FakeTimeProvider(Start);
        _options = Options.Create(new IngestOptions { MediaRoot = _dir.Combine("media"), CatalogPath = _dir.Combine("catalog.db") });
        _catalogDatabase = await TestCatalog.CreateAsync(backend);
        _database = _catalogDatabase.Database;
        _catalog = new SessionStore(_database, new MediaCatalog(_database, _time), new PerceptualIndex(_database));
    }

    [TearDown]
    public async Task TearDown()
    {
        await _catalogDatabase.DisposeAsync();
        _dir.Dispose();
    }

    [Test]
    public async Task A_recovered_session_with_no_files_to_process_reads_100_percent_as_it_would_live()
    {
        // Only a folder that could not be listed: nothing to process, one error.
        var live = new SessionProgress(Snapshot("s0", totalFiles: 0), null, _time);
        live.AddError(new FileError("locked", "discover", "permission denied", Start));
        var started = live.SetStatusAndGet(SessionStatus.Processing);
        await _catalog.CreateSessionAsync(Record(started), new DiscoveryResult([], [], [new DiscoveryProblem("locked", "permission denied")]), CancellationToken.None);

        var recovered = await RecoverAsync("s0");

        var liveEnd = live.Finish(SessionStatus.Interrupted);
        Assert.That(recovered.Progress, Is.EqualTo(liveEnd.Progress), "progress of a finished session with no files");
        Assert.That(recovered.Stats.Errors, Is.EqualTo(liveEnd.Stats.Errors), "errors");
        Assert.That(recovered.ProcessedFiles, Is.EqualTo(liveEnd.ProcessedFiles), "processed files");
    }

    [Test]
    public async Task Recovered_counters_mean_what_they_meant_live()
    {
        var files = new List<DiscoveredFile>
        {
            new("a.png", 10, Start), new("b.png", 10, Start), new("c.png", 10, Start), new("d.png", 10, Start),
        };
        var live = new SessionProgress(Snapshot("s1", totalFiles: files.Count), null, _time);
        var started = live.SetStatusAndGet(SessionStatus.Processing);
        await _catalog.CreateSessionAsync(Record(started), new DiscoveryResult(files, [], []), CancellationToken.None);

        // What three files added live: one with two warnings, one clean with a score, one failed; the last never ran.
        var outcomes = new (string State, FileTally Tally, FileError? Error)[]
        {
            (FileStates.CommittedWithWarnings, new FileTally(true, true, 3, false, 2), null),
            (FileStates.Committed, new FileTally(true, true, 5, true, 0), null),
            (FileStates.Failed, new FileTally(false, false, 0, false, 0), new FileError("c.png", "hash", "unreadable", Start)),
        };
        for (var i = 0; i < outcomes.Length; i++)
        {
            var (state, tally, error) = outcomes[i];
            await _catalog.CommitFileAsync("s1", i + 1, null, new SessionFileResult(files[i].Path, state, "commit", null, 10, 1), tally, CancellationToken.None);
            live.FileFinished(tally, error);
        }

        // As saved before the crash: only the snapshot from the start of the run.
        var recovered = await RecoverAsync("s1");

        var liveEnd = live.Finish(SessionStatus.Interrupted);
        Assert.Multiple(() =>
        {
            Assert.That(recovered.Stats.Warnings, Is.EqualTo(liveEnd.Stats.Warnings), "warnings count warning messages, as live");
            Assert.That(recovered.Stats with { Warnings = 0 }, Is.EqualTo(liveEnd.Stats with { Warnings = 0 }), "every other counter");
            Assert.That(recovered.ProcessedFiles, Is.EqualTo(liveEnd.ProcessedFiles), "processed files");
            Assert.That(recovered.Progress, Is.EqualTo(liveEnd.Progress), "progress");
        });
    }

    [Test]
    public async Task Files_of_a_discovery_cut_short_by_a_dead_process_are_dropped_and_a_discovery_of_this_one_is_left_alone()
    {
        // The session row comes after its files: a process that died while discovering left files and no row.
        var abandoned = Guid.CreateVersion7(Start.AddMinutes(-5)).ToString("N");
        var running = Guid.CreateVersion7(Start.AddSeconds(1)).ToString("N");
        DiscoveryItem[] items = [new(DiscoveryKind.Pending, new("a.png", 10, Start)), new(DiscoveryKind.Pending, new("b.png", 10, Start))];
        await _catalog.AddDiscoveredAsync(abandoned, items, default, CancellationToken.None);
        await _catalog.AddDiscoveredAsync(running, items, default, CancellationToken.None);
        var live = Snapshot(Guid.CreateVersion7(Start.AddMinutes(-10)).ToString("N"), totalFiles: 2);
        await _catalog.CreateSessionAsync(Record(live), new DiscoveryResult([new("c.png", 10, Start), new("d.png", 10, Start)], [], []), CancellationToken.None);
        Assert.That(await _catalog.SessionlessDiscoveriesAsync(CancellationToken.None), Is.EquivalentTo(new[] { abandoned, running }));

        var lifecycle = new SessionLifecycle(_catalog, _database, new InProcessProgressRegistry(), _options, _time, NullLogger<SessionLifecycle>.Instance);
        await lifecycle.StartAsync(CancellationToken.None);
        try
        {
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while ((await _catalog.SessionlessDiscoveriesAsync(CancellationToken.None)).Contains(abandoned))
            {
                await Task.Delay(20, patience.Token);
            }
        }
        finally
        {
            await lifecycle.StopAsync(CancellationToken.None);
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await _catalog.SessionlessDiscoveriesAsync(CancellationToken.None), Is.EqualTo(new[] { running }), "a discovery begun after the start goes on");
            Assert.That(await _catalog.StreamPendingFilesAsync(abandoned, CancellationToken.None).CountAsync(), Is.Zero, "the dead discovery's files");
            Assert.That(await _catalog.StreamPendingFilesAsync(running, CancellationToken.None).CountAsync(), Is.EqualTo(2), "the running discovery's files");
            Assert.That(await _catalog.StreamPendingFilesAsync(live.SessionId, CancellationToken.None).CountAsync(), Is.EqualTo(2), "a session's files");
        });
    }

    [Test]
    public void A_discovery_began_when_its_version_7_id_says_and_other_ids_say_nothing()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_123);
        Assert.That(SessionLifecycle.DiscoveryStartedAt(Guid.CreateVersion7(at).ToString("N")), Is.EqualTo(at));
        Assert.That(SessionLifecycle.DiscoveryStartedAt(Guid.NewGuid().ToString("N")), Is.Null);
        Assert.That(SessionLifecycle.DiscoveryStartedAt("s1"), Is.Null);
    }

    private async Task<ProgressSnapshot> RecoverAsync(string id)
    {
        var registry = new InProcessProgressRegistry();
        var lifecycle = new SessionLifecycle(_catalog, _database, registry, _options, _time, NullLogger<SessionLifecycle>.Instance);
        await lifecycle.StartAsync(CancellationToken.None);
        await lifecycle.StopAsync(CancellationToken.None);
        var snapshot = registry.Get(id)?.Snapshot;
        Assert.That(snapshot, Is.Not.Null, "the recovered session is reloaded into memory");
        Assert.That(snapshot!.Status, Is.EqualTo(SessionStatus.Interrupted));
        return snapshot;
    }

    private static ProgressSnapshot Snapshot(string id, int totalFiles) =>
        new(id, SessionStatus.Starting, 0, totalFiles, null, null, 0, Start, null,
            SessionStats.Empty with { TotalFiles = totalFiles, TotalDiscovered = totalFiles }, [], [], 0, Start, 0, null);

    private static SessionRecord Record(ProgressSnapshot snapshot) =>
        new(snapshot.SessionId, "{}", snapshot.Status.ToWire(), snapshot.StartTime, StoredSnapshot.ToText(snapshot), null);
}
