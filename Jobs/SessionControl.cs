using System.Collections.Concurrent;
using IngestLite.Progress;

namespace IngestLite.Jobs;

/// <summary>
/// Per-session cancellation, linked to Hangfire's token: Hangfire notices a deleted job only
/// every few seconds, a cancel here stops the job at once. On PostgreSQL a request reaches every node
/// (<see cref="PostgresProgressRegistry.Signal"/>), so the worker that runs the session stops it within milliseconds.
/// </summary>
public sealed class SessionControl
{
    private readonly ConcurrentDictionary<string, RunScope> _running = new(StringComparer.Ordinal);

    // Session id -> also deleted (its run must stop publishing, not only stop), and the session's seq when asked: a run
    // that starts from a later state (a resume) is not stopped by an older request.
    private readonly ConcurrentDictionary<string, Request> _cancelRequested = new(StringComparer.Ordinal);
    private readonly IProgressRegistry? _registry;
    private readonly PostgresProgressRegistry? _shared;

    /// <summary>One node, no registry (tests).</summary>
    public SessionControl()
    {
    }

    public SessionControl(IProgressRegistry registry)
    {
        _registry = registry;
        _shared = registry as PostgresProgressRegistry;
        if (_shared is not null)
        {
            _shared.Signal += (command, sessionId) => Ask(sessionId, deleted: command == DeleteSignal);
        }
    }

    private const string CancelSignal = "cancel";
    private const string DeleteSignal = "delete";

    public bool IsRunning(string sessionId) => _running.ContainsKey(sessionId);

    /// <summary>Starts tracking a job run; dispose the returned scope when the run ends.</summary>
    public RunScope Begin(string sessionId, SessionProgress progress, CancellationToken jobToken)
    {
        var scope = new RunScope(this, sessionId, progress, CancellationTokenSource.CreateLinkedTokenSource(jobToken));
        _running[sessionId] = scope;
        if (_cancelRequested.TryGetValue(sessionId, out var request) && request.Seq >= progress.Current.Seq)
        {
            scope.Stop(request.Deleted);
        }

        return scope;
    }

    /// <summary>The runs in progress, for the watchdog.</summary>
    public IReadOnlyCollection<RunScope> Running => [.. _running.Values];

    /// <summary>
    /// Asks a session to stop; works before its job has started too. The request is kept until that run
    /// ends (<see cref="RunScope.Dispose"/>), so ask only for a session whose job is still to come or running.
    /// </summary>
    public void Cancel(string sessionId)
    {
        Ask(sessionId, deleted: false);
        _shared?.SendSignal(CancelSignal, sessionId);
    }

    /// <summary>
    /// Stops a session that is being deleted: like <see cref="Cancel"/>, and its run publishes nothing
    /// more (its final report would otherwise bring the deleted session back into the registry).
    /// </summary>
    public void Delete(string sessionId)
    {
        Ask(sessionId, deleted: true);
        _shared?.SendSignal(DeleteSignal, sessionId);
    }

    private void Ask(string sessionId, bool deleted)
    {
        ForgetEnded();
        var seq = _registry?.Get(sessionId)?.Snapshot.Seq ?? long.MaxValue;
        _cancelRequested.AddOrUpdate(sessionId, new Request(deleted, seq), (_, before) => new Request(before.Deleted || deleted, Math.Max(before.Seq, seq)));
        if (_running.TryGetValue(sessionId, out var scope))
        {
            scope.Stop(deleted);
        }
    }

    /// <summary>
    /// Drops the requests of sessions that ended with no run here (on PostgreSQL every node hears every request, and
    /// only the running node's run clears it). A later run starts from a later seq, which an older request never stops.
    /// A deleted session's request stays: its job may still come, and must not publish.
    /// </summary>
    private void ForgetEnded()
    {
        foreach (var id in _cancelRequested.Keys)
        {
            if (_registry?.Get(id)?.Snapshot.Status.IsTerminal() == true && !_running.ContainsKey(id))
            {
                _cancelRequested.TryRemove(id, out _);
            }
        }
    }

    public bool WasCancelled(string sessionId) => _cancelRequested.ContainsKey(sessionId);

    /// <summary>Clears a cancel request, so that a resumed session can run again.</summary>
    public void Reset(string sessionId) => _cancelRequested.TryRemove(sessionId, out _);

    private readonly record struct Request(bool Deleted, long Seq);

    /// <summary>One job run of one session.</summary>
    public sealed class RunScope(SessionControl owner, string sessionId, SessionProgress progress, CancellationTokenSource source) : IDisposable
    {
        public CancellationToken Token => source.Token;

        public SessionProgress Progress => progress;

        public void Stop(bool deleted)
        {
            if (deleted)
            {
                progress.Detach();
            }

            Cancel();
        }

        private void Cancel()
        {
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        /// <summary>Ends the run: its cancel request, if any, has been honoured and is forgotten.</summary>
        public void Dispose()
        {
            owner._running.TryRemove(new KeyValuePair<string, RunScope>(sessionId, this));
            owner._cancelRequested.TryRemove(sessionId, out _);
            source.Dispose();
        }
    }
}

/// <summary>Spaces file starts to honour <see cref="IngestOptions.MaxFilesPerSecond"/>.</summary>
public sealed class Pacer(double? filesPerSecond, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly long _interval = filesPerSecond is { } rate ? (long)(time.TimestampFrequency / rate) : 0;
    private long _next;

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (_interval == 0)
        {
            return;
        }

        long wait;
        lock (_gate)
        {
            var now = time.GetTimestamp();
            var slot = Math.Max(now, _next);
            _next = slot + _interval;
            wait = slot - now;
        }

        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / time.TimestampFrequency), time, cancellationToken);
        }
    }
}
