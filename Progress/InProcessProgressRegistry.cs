using System.Collections.Concurrent;

namespace IngestLite.Progress;

/// <summary>
/// Single-node registry. A publish swaps one reference and completes at most two pending
/// signals on the thread pool, so its cost does not grow with the number of readers.
/// </summary>
public sealed class InProcessProgressRegistry : IProgressRegistry
{
    private readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);
    private readonly ChangeSignal _anyChange = new();
    private Entry? _recent;
    private long _version;
    private int _subscribers;

    public long Version => Interlocked.Read(ref _version);

    public int SubscriberCount => Volatile.Read(ref _subscribers);

    public void Publish(ProgressSnapshot snapshot)
    {
        // A job publishes many times in a row with the same id string: skip the hash lookup then.
        var recent = Volatile.Read(ref _recent);
        var cached = recent is not null && ReferenceEquals(recent.SessionId, snapshot.SessionId) ? recent : null;
        Entry entry;
        while (true)
        {
            entry = cached ?? _sessions.GetOrAdd(snapshot.SessionId, static id => new Entry(id));
            cached = null;
            lock (entry)
            {
                // Removed between the lookup and the lock: publish into a fresh entry instead.
                if (entry.Removed)
                {
                    continue;
                }

                // Seq is the session's own clock: an older snapshot must never replace a newer one.
                if (entry.Latest is { } current && current.Snapshot.Seq >= snapshot.Seq)
                {
                    return;
                }

                entry.Latest = new ProgressUpdate(snapshot, Interlocked.Increment(ref _version), entry.Sampler);
                break;
            }
        }

        Volatile.Write(ref _recent, entry);
        entry.Signal.Notify();
        _anyChange.Notify();
    }

    public ProgressUpdate? Get(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var entry) && !entry.Removed ? entry.Latest : null;

    public IReadOnlyList<ProgressUpdate> All() =>
        [.. _sessions.Values.Where(e => !e.Removed).Select(e => e.Latest).OfType<ProgressUpdate>()
            .OrderByDescending(u => u.Snapshot.StartTime).ThenByDescending(u => u.Snapshot.SessionId, StringComparer.Ordinal)];

    public bool Remove(string sessionId)
    {
        if (!_sessions.TryRemove(sessionId, out var entry))
        {
            return false;
        }

        lock (entry)
        {
            entry.Removed = true;
        }

        Interlocked.Increment(ref _version);
        entry.Signal.Notify();
        _anyChange.Notify();
        return true;
    }

    public ISessionSubscription? Subscribe(string sessionId)
    {
        if (!_sessions.TryGetValue(sessionId, out var entry) || entry.Removed)
        {
            return null;
        }

        Interlocked.Increment(ref _subscribers);
        return new SessionSubscription(this, entry);
    }

    public IRegistrySubscription SubscribeAll()
    {
        Interlocked.Increment(ref _subscribers);
        return new AllSubscription(this);
    }

    private void Release() => Interlocked.Decrement(ref _subscribers);

    private sealed class Entry(string sessionId)
    {
        public readonly string SessionId = sessionId;
        public volatile ProgressUpdate? Latest;
        public volatile bool Removed;
        public readonly ChangeSignal Signal = new();
        public readonly SessionSampler Sampler = new();
    }

    private sealed class SessionSubscription(InProcessProgressRegistry owner, Entry entry) : ISessionSubscription
    {
        private int _disposed;

        public async ValueTask<ProgressUpdate?> NextAsync(long afterSeq, CancellationToken cancellationToken)
        {
            while (true)
            {
                // Take the signal before reading the state, so a publish in between is never missed.
                var changed = entry.Signal.Next;
                if (entry.Removed)
                {
                    return null;
                }

                if (entry.Latest is { } latest && latest.Snapshot.Seq > afterSeq)
                {
                    return latest;
                }

                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release();
            }
        }
    }

    private sealed class AllSubscription(InProcessProgressRegistry owner) : IRegistrySubscription
    {
        private int _disposed;

        public async ValueTask WaitAsync(long afterVersion, CancellationToken cancellationToken)
        {
            while (true)
            {
                var changed = owner._anyChange.Next;
                if (owner.Version > afterVersion)
                {
                    return;
                }

                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release();
            }
        }
    }

    /// <summary>A reusable "something changed" edge: waiters share one task, a notify swaps it out.</summary>
    private sealed class ChangeSignal
    {
        private TaskCompletionSource? _pending;

        public Task Next
        {
            get
            {
                var pending = Volatile.Read(ref _pending);
                if (pending is not null)
                {
                    return pending.Task;
                }

                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return (Interlocked.CompareExchange(ref _pending, created, null) ?? created).Task;
            }
        }

        public void Notify()
        {
            // No waiter: nothing to allocate or schedule. Otherwise hand the wake-up to the pool,
            // so the publisher pays one queue operation however many readers wait. The plain read first
            // is safe: callers change the state with a full fence (a lock exit, an Interlocked) before
            // notifying, and waiters install their signal with one before they read the state.
            if (Volatile.Read(ref _pending) is not null && Interlocked.Exchange(ref _pending, null) is { } pending)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static p => p.TrySetResult(), pending, preferLocal: false);
            }
        }
    }
}
