using System.Collections.Concurrent;
using System.Globalization;
using IngestLite.Catalog;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IngestLite.Progress;

/// <summary>
/// The registry of a node that shares its sessions with other nodes through PostgreSQL. Every node keeps the
/// sessions in an <see cref="InProcessProgressRegistry"/>, which its streams read as on one node. A publish goes
/// there at once (the session's own streams here see it) and to the database: the latest snapshot of each session
/// is written to <c>ingestlite_progress</c> (durable), with a global version from a sequence, and a NOTIFY carries
/// only <c>session id, seq, version</c>. Writes are conflated per session at the streams' pace
/// (<see cref="StreamOptions.MinEventInterval"/>): a change after a quiet spell goes out at once, a busy session's
/// newest state once per interval, and a final state always. Each node listens on one dedicated connection and reads
/// the rows above the last version it holds, so a node that missed notifications (or the database for a while)
/// catches up from the table. The multiplexed stream's ids are those global versions, so a client may resume on
/// any node; a session's own stream's ids are its seq, global already.
/// </summary>
public sealed partial class PostgresProgressRegistry : IProgressRegistry, IHostedService, IAsyncDisposable
{
    public const string Channel = "ingestlite_progress";

    /// <summary>Requests to the node that runs a session (<c>cancel &lt;id&gt;</c>, <c>delete &lt;id&gt;</c>), on the same listening connection.</summary>
    public const string ControlChannel = "ingestlite_control";

    private const string Schema = """
        CREATE SEQUENCE IF NOT EXISTS ingestlite_progress_version;
        CREATE TABLE IF NOT EXISTS ingestlite_progress (
            session_id text PRIMARY KEY,
            seq bigint NOT NULL,
            version bigint NOT NULL,
            status text NOT NULL,
            node text NOT NULL,
            removed boolean NOT NULL DEFAULT false,
            snapshot text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS ingestlite_progress_by_version ON ingestlite_progress(version);
        CREATE TABLE IF NOT EXISTS ingestlite_nodes (
            node text PRIMARY KEY,
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL);
        """;

    private const string Renew = """
        INSERT INTO ingestlite_nodes (node, heartbeat_at) VALUES (@node, now())
        ON CONFLICT (node) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
        """;

    // Sessions a run reports on (what only a running job publishes) whose node has not renewed its lease in time.
    private const string Orphans = """
        SELECT p.session_id FROM ingestlite_progress p
        WHERE NOT p.removed AND p.status IN ('processing', 'committing')
          AND NOT EXISTS (SELECT 1 FROM ingestlite_nodes n WHERE n.node = p.node AND n.heartbeat_at > now() - @lease)
        """;

    // One statement per session: the write, and its notification with the version it got (none when a newer seq is held).
    private const string Write = $"""
        WITH written AS (
            INSERT INTO ingestlite_progress AS p (session_id, seq, version, status, node, removed, snapshot, updated_at)
            VALUES (@id, @seq, nextval('ingestlite_progress_version'), @status, @node, @removed, @snapshot, now())
            ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, version = excluded.version, status = excluded.status,
                node = excluded.node, removed = excluded.removed, snapshot = excluded.snapshot, updated_at = excluded.updated_at
            WHERE p.seq < excluded.seq OR excluded.removed OR p.removed
            RETURNING session_id, seq, version)
        SELECT pg_notify('{Channel}', session_id || ' ' || seq || ' ' || version) FROM written
        """;

    private const string ReadAbove = """
        SELECT version, session_id, removed, snapshot FROM ingestlite_progress WHERE version > @version ORDER BY version LIMIT @limit
        """;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(5);

    private readonly InProcessProgressRegistry _local = new() { ExternalVersions = true };
    private readonly NpgsqlDataSource _database;
    private readonly IOptionsMonitor<StreamOptions> _streams;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresProgressRegistry> _logger;

    // The newest state of each session not written yet (a removal is a null snapshot): bounded by the sessions, never a backlog.
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private long _announced;
    private long _held;
    private Task _writer = Task.CompletedTask;
    private Task _listener = Task.CompletedTask;
    private Task _heartbeat = Task.CompletedTask;
    private volatile bool _disposed;
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="database">Owned: disposed with the registry.</param>
    /// <param name="lease">How long this node's claim on the sessions it runs lasts without renewal (renewed every third of it).</param>
    public PostgresProgressRegistry(NpgsqlDataSource database, string node, TimeSpan lease, IOptionsMonitor<StreamOptions> streams, TimeProvider time, ILogger<PostgresProgressRegistry> logger)
    {
        _database = database;
        Node = node;
        Lease = lease;
        _streams = streams;
        _time = time;
        _logger = logger;
    }

    /// <summary>This node's name in the table (<c>node</c>): the node that last published a session runs it.</summary>
    public string Node { get; }

    /// <summary>How long a node's claim on its sessions lasts without renewal.</summary>
    public TimeSpan Lease { get; }

    /// <summary>False while the database cannot be reached: streams stay open and say so; the node catches up when it is back.</summary>
    public bool Connected => _outageSince is null;

    public string? Outage => _outageSince is { } since
        ? $"this server cannot reach its database (since {since:HH:mm:ss} UTC): progress shown may be stale, and catches up once it is back"
        : null;

    private DateTimeOffset? _outageSince;

    public long Version => _local.Version;

    public long Milestones => _local.Milestones;

    public int SubscriberCount => _local.SubscriberCount;

    public void Publish(ProgressSnapshot snapshot)
    {
        _local.Publish(snapshot);
        _pending.AddOrUpdate(
            snapshot.SessionId,
            static (_, s) => new Pending(s),
            static (_, current, s) => current.Snapshot is { } held && held.Seq >= s.Seq ? current : current with { Snapshot = s },
            snapshot);
        Wake();
    }

    /// <summary>Wakes the writer once however many publishes come before it looks (a busy job publishes thousands a second).</summary>
    private void Wake()
    {
        if (Interlocked.Exchange(ref _woken, 1) == 0)
        {
            _wake.Release();
        }
    }

    private int _woken;

    public ProgressUpdate? Get(string sessionId) => _local.Get(sessionId);

    public IReadOnlyList<ProgressUpdate> All() => _local.All();

    /// <summary>Deleted on every node once the removal is written (a few ms); true when this node held the session.</summary>
    public bool Remove(string sessionId)
    {
        var held = _local.Get(sessionId) is not null;
        _pending[sessionId] = new Pending(null);
        Wake();
        return held;
    }

    /// <summary>Retention is each node's own: forgetting writes nothing.</summary>
    public bool Forget(string sessionId) => _local.Forget(sessionId);

    public bool IsDeleted(string sessionId) => _local.IsDeleted(sessionId);

    public ISessionSubscription? Subscribe(string sessionId) => _local.Subscribe(sessionId);

    public IRegistrySubscription SubscribeAll() => _local.SubscribeAll();

    /// <summary>Creates the table if needed, then listens, and returns once this node holds every session the table holds.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await _database.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            // Nodes starting together: one creates the table, the others wait for it.
            await using var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock(7151800001); {Schema}", connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        _listener = Task.Run(() => ListenAsync(_stopping.Token), CancellationToken.None);
        await RenewAsync(cancellationToken);
        _writer = Task.Run(() => WriteAsync(_stopping.Token), CancellationToken.None);
        _heartbeat = Task.Run(() => HeartbeatAsync(_stopping.Token), CancellationToken.None);
        await _caughtUp.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes what is pending (a session's final state always goes out), then stops listening.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException)
        {
            LogUnflushed(_logger, _pending.Count, ex.Message);
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_writer, _listener, _heartbeat).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        await Task.WhenAll(_writer, _listener, _heartbeat).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
        await _database.DisposeAsync();
    }

    /// <summary>
    /// Sessions that report as running (processing, committing) on a node whose lease lapsed: that node is gone
    /// (killed, or cut off for longer than the lease), so they are to be marked interrupted. Never a session of a live node.
    /// </summary>
    public Task<IReadOnlyList<string>> OrphansAsync(CancellationToken cancellationToken) => ReadLapsedAsync(Orphans, cancellationToken);

    /// <summary>The nodes whose lease lapsed (killed, or cut off), until their lease rows are pruned.</summary>
    public Task<IReadOnlyList<string>> LapsedNodesAsync(CancellationToken cancellationToken) =>
        ReadLapsedAsync("SELECT node FROM ingestlite_nodes WHERE heartbeat_at <= now() - @lease ORDER BY node", cancellationToken);

    /// <summary>The first column of a query over the leases (<c>@lease</c> is <see cref="Lease"/>).</summary>
    private async Task<IReadOnlyList<string>> ReadLapsedAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand(sql);
        command.Parameters.AddWithValue("lease", Lease);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(reader.GetString(0));
        }

        return found;
    }

    /// <summary>
    /// Deletes the rows of sessions that ended (or were deleted) longer than <paramref name="retention"/> ago, and the
    /// leases of nodes gone that long: the table holds live and recent sessions; their history is in the catalog.
    /// </summary>
    public async Task PruneAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        var terminal = string.Join(", ", Enum.GetValues<SessionStatus>().Where(s => s.IsTerminal()).Select(s => $"'{s.ToWire()}'"));
        await using var command = _database.CreateCommand(
            $"DELETE FROM ingestlite_progress WHERE (removed OR status IN ({terminal})) AND updated_at < now() - @retention; " +
            "DELETE FROM ingestlite_nodes WHERE heartbeat_at < now() - @retention;");
        command.Parameters.AddWithValue("retention", retention);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand(Renew);
        command.Parameters.AddWithValue("node", Node);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task HeartbeatAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Lease / 3, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await RenewAsync(stopping);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    LogWriteFailed(_logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes every pending state now, whatever the pace.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var due = _pending.Keys.ToList();
        if (due.Count > 0)
        {
            await WriteDueAsync(due, cancellationToken);
        }
    }

    private async Task WriteAsync(CancellationToken stopping)
    {
        // When each session last went out, and what it said: the pace is per session, so one busy session never holds
        // another back; a milestone (a new count, status or commit progress) is paced on its own (see Written), so a
        // file's count is not held behind the stage changes before it: about two writes per interval at most.
        var written = new Dictionary<string, Written>(StringComparer.Ordinal);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Cleared before the look: a publish during it wakes the next wait at once.
                Volatile.Write(ref _woken, 0);
                var interval = _streams.CurrentValue.MinEventInterval;
                var pace = (long)(interval.TotalSeconds * _time.TimestampFrequency);
                var now = _time.GetTimestamp();
                var due = new List<string>();
                var wait = Timeout.InfiniteTimeSpan;
                foreach (var (id, pending) in _pending)
                {
                    var at = now;
                    if (pending.Snapshot is { } next && !next.Status.IsTerminal() && written.TryGetValue(id, out var last))
                    {
                        at = last.IsMilestone(next) ? last.NextMilestoneAt(now, pace) : last.At + pace;
                    }

                    if (at <= now)
                    {
                        due.Add(id);
                    }
                    else
                    {
                        var left = _time.GetElapsedTime(now, at);
                        wait = wait == Timeout.InfiniteTimeSpan || left < wait ? left : wait;
                    }
                }

                if (due.Count > 0)
                {
                    foreach (var (id, snapshot) in await WriteDueAsync(due, stopping))
                    {
                        written[id] = snapshot is null ? Written.First(now, null)
                            : !written.TryGetValue(id, out var last) ? Written.First(now, snapshot)
                            : last.IsMilestone(snapshot) ? last.AfterMilestone(now, pace, snapshot)
                            : last with { At = now };
                    }

                    // Forget the pace of sessions quiet for long: the map holds only the busy ones.
                    if (written.Count > 1024)
                    {
                        foreach (var (id, last) in written.ToList())
                        {
                            if (now - last.At > pace * 10)
                            {
                                written.Remove(id);
                            }
                        }
                    }

                    continue;
                }

                await _wake.WaitAsync(wait, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The states stay pending (only each session's newest) and go out once the database is back.
                LogWriteFailed(_logger, ex.Message);
                await Task.Delay(RetryDelay, _time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Writes the pending states of <paramref name="ids"/> in one round trip; returns what was written (null: a removal).</summary>
    private async Task<List<(string Id, ProgressSnapshot? Snapshot)>> WriteDueAsync(List<string> ids, CancellationToken cancellationToken)
    {
        var taken = new List<(string Id, Pending State)>(ids.Count);
        foreach (var id in ids)
        {
            if (_pending.TryRemove(id, out var state))
            {
                taken.Add((id, state));
            }
        }

        try
        {
            await using var batch = _database.CreateBatch();
            foreach (var (id, state) in taken)
            {
                var command = new NpgsqlBatchCommand(Write);
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("seq", state.Snapshot?.Seq ?? long.MaxValue);
                command.Parameters.AddWithValue("status", state.Snapshot?.Status.ToWire() ?? "removed");
                command.Parameters.AddWithValue("node", Node);
                command.Parameters.AddWithValue("removed", state.Snapshot is null);
                command.Parameters.AddWithValue("snapshot", state.Snapshot is { } snapshot ? StoredSnapshot.ToText(snapshot) : "");
                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
            return [.. taken.Select(t => (t.Id, t.State.Snapshot))];
        }
        catch
        {
            // Put back what was taken, unless a newer state arrived meanwhile.
            foreach (var (id, state) in taken)
            {
                _pending.AddOrUpdate(id, state, (_, newer) => newer);
            }

            throw;
        }
    }

    private async Task ListenAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _database.OpenConnectionAsync(stopping);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}; LISTEN {ControlChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping);
                }

                // Listening first, then reading: nothing written between the two is missed.
                await CatchUpAsync(connection, stopping);
                _outageSince = null;
                LogConnected(_logger, Node, Version);

                _caughtUp.TrySetResult();
                while (true)
                {
                    // A quiet spell ends in a read anyway: it checks the connection (a dead one is noticed within it) and
                    // catches up on anything a notification did not announce.
                    if (!await connection.WaitAsync(KeepAlive, stopping) || Interlocked.Read(ref _announced) > Interlocked.Read(ref _held))
                    {
                        await CatchUpAsync(connection, stopping);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or System.IO.IOException)
            {
                _outageSince ??= _time.GetUtcNow();
                LogListenFailed(_logger, ex.Message);
                await Task.Delay(RetryDelay, _time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>A request from any node (this one included) to the node that runs a session: command and session id.</summary>
    public event Action<string, string>? Signal;

    /// <summary>Sends a request to every node (<see cref="Signal"/>); a failure is logged, the local request stands.</summary>
    public void SendSignal(string command, string sessionId) => _ = SendSignalAsync(command, sessionId);

    private async Task SendSignalAsync(string command, string sessionId)
    {
        try
        {
            await using var notify = _database.CreateCommand($"SELECT pg_notify('{ControlChannel}', @payload)");
            notify.Parameters.AddWithValue("payload", $"{command} {sessionId}");
            await notify.ExecuteNonQueryAsync(_disposed ? CancellationToken.None : _stopping.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or ObjectDisposedException or TimeoutException)
        {
            LogSignalFailed(_logger, command, sessionId, ex.Message);
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Channel == ControlChannel)
        {
            var split = e.Payload.IndexOf(' ');
            if (split > 0)
            {
                Signal?.Invoke(e.Payload[..split], e.Payload[(split + 1)..]);
            }

            return;
        }

        // "<session id> <seq> <version>": only the version matters here (the rows above the held one are read).
        var space = e.Payload.LastIndexOf(' ');
        if (space > 0 && long.TryParse(e.Payload.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            InterlockedMax(ref _announced, version);
        }
    }

    /// <summary>Applies every row above the version this node holds, in version order.</summary>
    private async Task CatchUpAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const int Page = 1000;
        int read;
        do
        {
            read = 0;
            await using var command = new NpgsqlCommand(ReadAbove, connection);
            command.Parameters.AddWithValue("version", Interlocked.Read(ref _held));
            command.Parameters.AddWithValue("limit", Page);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                read++;
                var version = reader.GetInt64(0);
                if (reader.GetBoolean(2))
                {
                    _local.Remove(reader.GetString(1), version);
                }
                else
                {
                    _local.Stamp(StoredSnapshot.FromText(reader.GetString(3)), version);
                }

                InterlockedMax(ref _held, version);
            }
        }
        while (read == Page);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (current < value)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private sealed record Pending(ProgressSnapshot? Snapshot);

    /// <summary>
    /// When a session's state last went out, and the fields of its last milestone. Milestones are paced by a token
    /// bucket (one per interval, up to <see cref="MilestoneBurst"/> saved up), so counts that come at about the pace
    /// (a file every 100 ms) go out at once instead of locking onto the interval's phase, while a session whose count
    /// changes thousands of times a second still writes about one milestone per interval.
    /// </summary>
    private readonly record struct Written(long At, double Tokens, long TokensAt, int ProcessedFiles, SessionStatus Status, int CommitProgress)
    {
        private const double MilestoneBurst = 3;

        public static Written First(long now, ProgressSnapshot? snapshot) =>
            new(now, MilestoneBurst - 1, now, snapshot?.ProcessedFiles ?? -1, snapshot?.Status ?? default, snapshot?.CommitProgress ?? -1);

        public bool IsMilestone(ProgressSnapshot next) =>
            next.ProcessedFiles != ProcessedFiles || next.Status != Status || next.CommitProgress != CommitProgress;

        /// <summary>When a milestone may go out: now while a token is left, else when the next one accrues.</summary>
        public long NextMilestoneAt(long now, long pace)
        {
            var tokens = TokensNow(now, pace);
            return tokens >= 1 ? now : now + (long)((1 - tokens) * pace);
        }

        public Written AfterMilestone(long now, long pace, ProgressSnapshot snapshot) =>
            new(now, Math.Max(0, TokensNow(now, pace) - 1), now, snapshot.ProcessedFiles, snapshot.Status, snapshot.CommitProgress);

        private double TokensNow(long now, long pace) => pace <= 0 ? MilestoneBurst : Math.Min(MilestoneBurst, Tokens + (double)(now - TokensAt) / pace);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Progress backplane: node {Node} listening, at version {Version}")]
    private static partial void LogConnected(ILogger logger, string node, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Progress backplane: cannot listen ({Reason}); retrying, and catching up from the table once back")]
    private static partial void LogListenFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Progress backplane: cannot write ({Reason}); each session's newest state is kept and written once the database is back")]
    private static partial void LogWriteFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Progress backplane: could not send '{Command}' for session {SessionId} to the other nodes ({Reason})")]
    private static partial void LogSignalFailed(ILogger logger, string command, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Progress backplane: {Count} sessions' newest states were not written at stop ({Reason})")]
    private static partial void LogUnflushed(ILogger logger, int count, string reason);
}
