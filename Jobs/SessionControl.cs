using System.Collections.Concurrent;

namespace IngestLite.Jobs;

/// <summary>
/// Per-session cancellation, linked to Hangfire's token: Hangfire notices a deleted job only
/// every few seconds, a cancel here stops the job at once.
/// </summary>
public sealed class SessionControl
{
    private readonly ConcurrentDictionary<string, RunScope> _running = new(StringComparer.Ordinal);
    // Session id -> also deleted (its run must stop publishing, not only stop).
    private readonly ConcurrentDictionary<string, bool> _cancelRequested = new(StringComparer.Ordinal);

    public bool IsRunning(string sessionId) => _running.ContainsKey(sessionId);

    /// <summary>Starts tracking a job run; dispose the returned scope when the run ends.</summary>
    public RunScope Begin(string sessionId, SessionProgress progress, CancellationToken jobToken)
    {
        var scope = new RunScope(this, sessionId, progress, CancellationTokenSource.CreateLinkedTokenSource(jobToken));
        _running[sessionId] = scope;
        if (_cancelRequested.TryGetValue(sessionId, out var deleted))
        {
            scope.Stop(deleted);
        }

        return scope;
    }

    /// <summary>The runs in progress, for the watchdog.</summary>
    public IReadOnlyCollection<RunScope> Running => [.. _running.Values];

    /// <summary>
    /// Asks a session to stop; works before its job has started too. The request is kept until that run
    /// ends (<see cref="RunScope.Dispose"/>), so ask only for a session whose job is still to come or running.
    /// </summary>
    public void Cancel(string sessionId) => Request(sessionId, deleted: false);

    /// <summary>
    /// Stops a session that is being deleted: like <see cref="Cancel"/>, and its run publishes nothing
    /// more (its final report would otherwise bring the deleted session back into the registry).
    /// </summary>
    public void Delete(string sessionId) => Request(sessionId, deleted: true);

    private void Request(string sessionId, bool deleted)
    {
        _cancelRequested.AddOrUpdate(sessionId, deleted, (_, before) => before || deleted);
        if (_running.TryGetValue(sessionId, out var scope))
        {
            scope.Stop(deleted);
        }
    }

    public bool WasCancelled(string sessionId) => _cancelRequested.ContainsKey(sessionId);

    /// <summary>Clears a cancel request, so that a resumed session can run again.</summary>
    public void Reset(string sessionId) => _cancelRequested.TryRemove(sessionId, out _);

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
