using System.Collections.Concurrent;

namespace IngestLite.Progress;

/// <summary>
/// Single-node registry. A publish swaps one reference and queues at most two wake-ups (see
/// <see cref="ChangeSignal"/>) on the thread pool, so its cost does not grow with the number of readers.
/// </summary>
public sealed class InProcessProgressRegistry : IProgressRegistry
{
    private readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);

    // Ids deleted (not merely forgotten): one small entry per DELETE, a rare user action.
    private readonly ConcurrentDictionary<string, byte> _deleted = new(StringComparer.Ordinal);
    private readonly ChangeSignal _anyChange = new();
    private Entry? _recent;
    private long _version;
    private long _milestones;
    private int _subscribers;

    /// <summary>The name of the registry's version mark in <see cref="ICounterMarks"/>.</summary>
    public const string VersionMark = "registry_version";

    // Versions are event ids of the multiplexed stream: a mark a block ahead keeps them above a crashed process's.
    private const long VersionBlock = 1 << 20;

    private readonly CounterLease? _lease;

    /// <summary>A registry whose versions start at 0 (tests, benchmarks).</summary>
    public InProcessProgressRegistry()
    {
    }

    /// <summary>A registry whose versions continue above every version a previous process used.</summary>
    public InProcessProgressRegistry(ICounterMarks marks)
    {
        _version = marks.ReadMark(VersionMark);
        _lease = new CounterLease(marks, VersionMark, VersionBlock, _version);
    }

    public long Version => Interlocked.Read(ref _version);

    public int SubscriberCount => Volatile.Read(ref _subscribers);

    public long Milestones => Interlocked.Read(ref _milestones);

    public void Publish(ProgressSnapshot snapshot) => Put(snapshot, stamp: null);

    /// <summary>
    /// Versions come from outside (<see cref="Stamp"/>, the backplane's global ones): a <see cref="Publish"/> then
    /// wakes the session's own streams at once but not the multiplexed ones, which see the update once stamped.
    /// </summary>
    public bool ExternalVersions { get; init; }

    /// <summary>
    /// Makes <paramref name="snapshot"/> the session's state at registry version <paramref name="version"/> (the
    /// same snapshot again, as published here before, gets the version), and raises <see cref="Version"/> to it.
    /// </summary>
    public void Stamp(ProgressSnapshot snapshot, long version) => Put(snapshot, version);

    /// <summary><see cref="Remove"/> at a version from outside.</summary>
    public bool Remove(string sessionId, long version)
    {
        _deleted[sessionId] = 0;
        var dropped = Drop(sessionId);
        Raise(version);
        _anyChange.Notify();
        return dropped;
    }

    private void Put(ProgressSnapshot snapshot, long? stamp)
    {
        // A job publishes many times in a row with the same id string: skip the hash lookup then.
        var recent = Volatile.Read(ref _recent);
        var cached = recent is not null && ReferenceEquals(recent.SessionId, snapshot.SessionId) ? recent : null;
        Entry entry;
        bool milestone;
        var changed = true;
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

                // Seq is the session's own clock: an older snapshot must never replace a newer one. The same one
                // from outside takes its version (it was published here first, unstamped).
                if (entry.Latest is { } current && current.Snapshot.Seq >= snapshot.Seq)
                {
                    if (stamp is not { } version || current.Snapshot.Seq > snapshot.Seq || current.Version >= version)
                    {
                        if (stamp is { } seen && Raise(seen))
                        {
                            _anyChange.Notify();
                        }

                        return;
                    }

                    entry.Latest = new ProgressUpdate(current.Snapshot, version, current.Milestones);
                    milestone = false;
                    changed = false;
                    break;
                }

                milestone = entry.Latest is not { } previous
                    || previous.Snapshot.ProcessedFiles != snapshot.ProcessedFiles
                    || previous.Snapshot.Status != snapshot.Status
                    || previous.Snapshot.CommitProgress != snapshot.CommitProgress;
                var at = stamp ?? (ExternalVersions ? Version : NextVersion());
                entry.Latest = new ProgressUpdate(snapshot, at, (entry.Latest?.Milestones ?? 0) + (milestone ? 1 : 0));
                break;
            }
        }

        if (milestone)
        {
            Interlocked.Increment(ref _milestones);
        }

        var versioned = stamp is { } stamped ? Raise(stamped) : !ExternalVersions;

        // A full fence between the new state and the signal's read of its waiters (a lock exit is only a release).
        Interlocked.Exchange(ref _recent, entry);
        if (changed)
        {
            entry.Signal.Notify();
        }

        if (versioned)
        {
            _anyChange.Notify();
        }
    }

    /// <summary>Raises <see cref="Version"/> to <paramref name="version"/>; true when it rose.</summary>
    private bool Raise(long version)
    {
        var current = Interlocked.Read(ref _version);
        while (current < version)
        {
            var seen = Interlocked.CompareExchange(ref _version, version, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public ProgressUpdate? Get(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var entry) && !entry.Removed ? entry.Latest : null;

    public IReadOnlyList<ProgressUpdate> All() =>
        [.. _sessions.Values.Where(e => !e.Removed).Select(e => e.Latest).OfType<ProgressUpdate>()
            .OrderByDescending(u => u.Snapshot.StartTime).ThenByDescending(u => u.Snapshot.SessionId, StringComparer.Ordinal)];

    public bool Remove(string sessionId)
    {
        // Marked before it leaves, so a stream that finds it gone knows it was deleted.
        _deleted[sessionId] = 0;
        if (!Drop(sessionId))
        {
            _deleted.TryRemove(sessionId, out _);
            return false;
        }

        NextVersion();
        _anyChange.Notify();
        return true;
    }

    public bool Forget(string sessionId)
    {
        // Nothing the multiplexed streams show changes, so the version stays and they are not woken.
        _deleted.TryRemove(sessionId, out _);
        return Drop(sessionId);
    }

    public bool IsDeleted(string sessionId) => _deleted.ContainsKey(sessionId) && !_sessions.ContainsKey(sessionId);

    private long NextVersion()
    {
        var version = Interlocked.Increment(ref _version);
        _lease?.Cover(version);
        return version;
    }

    private bool Drop(string sessionId)
    {
        if (!_sessions.TryRemove(sessionId, out var entry))
        {
            return false;
        }

        lock (entry)
        {
            entry.Removed = true;
        }

        entry.Signal.Notify();
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
    }

    private sealed class SessionSubscription(InProcessProgressRegistry owner, Entry entry) : ChangeWaiter(entry.Signal), ISessionSubscription
    {
        public ProgressUpdate? Latest => entry.Removed ? null : entry.Latest;

        protected override bool Ready(long afterSeq) => entry.Removed || entry.Latest?.Snapshot.Seq > afterSeq;

        protected override void OnDisposed() => owner.Release();
    }

    private sealed class AllSubscription(InProcessProgressRegistry owner) : ChangeWaiter(owner._anyChange), IRegistrySubscription
    {
        protected override bool Ready(long afterVersion) => owner.Version > afterVersion;

        protected override void OnDisposed() => owner.Release();
    }
}
