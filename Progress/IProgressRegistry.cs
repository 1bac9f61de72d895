namespace IngestLite.Progress;

/// <summary>
/// Holds the latest snapshot of every live session and wakes readers when one changes.
/// Writers never wait on readers; readers always get the newest state, never a backlog.
/// The in-process implementation is <see cref="InProcessProgressRegistry"/>; a multi-node one
/// (PostgreSQL LISTEN/NOTIFY) can sit behind the same contract.
/// </summary>
public interface IProgressRegistry
{
    /// <summary>Makes <paramref name="snapshot"/> the session's latest state. O(1); ignores a stale seq.</summary>
    void Publish(ProgressSnapshot snapshot);

    ProgressUpdate? Get(string sessionId);

    /// <summary>Every session held in memory, newest first.</summary>
    IReadOnlyList<ProgressUpdate> All();

    /// <summary>
    /// A session was deleted: it leaves memory, its subscribers see the end of their stream, and the
    /// multiplexed streams that sent it announce <c>removed</c>. Publishing the id again starts afresh.
    /// </summary>
    bool Remove(string sessionId);

    /// <summary>
    /// Drops a finished session from memory only (retention): its history stays in the catalog, so the
    /// multiplexed streams say nothing; its own subscribers see the end of their stream.
    /// </summary>
    bool Forget(string sessionId);

    /// <summary>True when the session left memory through <see cref="Remove"/> (not <see cref="Forget"/>) and was not published since.</summary>
    bool IsDeleted(string sessionId);

    /// <summary>Registry-wide change counter; every publish gets the next value.</summary>
    long Version { get; }

    /// <summary>Counts the publishes that changed a session's processed files, status or commit progress (or added a session): what a viewer watches for.</summary>
    long Milestones { get; }

    /// <summary>
    /// Why the sessions held may be stale (this node cannot reach the database the nodes share), or null. Streams say it in
    /// their heartbeats; the registry catches up by itself once the cause is gone.
    /// </summary>
    string? Outage => null;

    /// <summary>Open subscriptions, for health checks and tests.</summary>
    int SubscriberCount { get; }

    /// <summary>Follows one session, or null when it is not held. Dispose to release it.</summary>
    ISessionSubscription? Subscribe(string sessionId);

    /// <summary>Follows every session. Dispose to release it.</summary>
    IRegistrySubscription SubscribeAll();
}

/// <summary>A published snapshot with its registry version and its JSON, serialized once.</summary>
public sealed class ProgressUpdate(ProgressSnapshot snapshot, long version, long milestones = 0)
{
    private byte[]? _json;
    private string? _seqText;

    public ProgressSnapshot Snapshot { get; } = snapshot;

    public long Version { get; } = version;

    /// <summary>
    /// How many of the session's updates so far were milestones: its first, and every one that changed
    /// processed files, status or commit progress (what a viewer watches for). See <see cref="IProgressRegistry.Milestones"/>.
    /// </summary>
    public long Milestones { get; } = milestones;

    /// <summary>UTF-8 JSON of the snapshot, computed by the first reader that needs it and shared by all.</summary>
    public byte[] Json => _json ??= ProgressWire.Serialize(Snapshot);

    /// <summary>The seq as an event id, formatted once for every stream.</summary>
    public string SeqText => _seqText ??= Snapshot.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public interface ISessionSubscription : IDisposable
{
    /// <summary>The session's latest update; null once it is forgotten.</summary>
    ProgressUpdate? Latest { get; }

    /// <summary>
    /// True once the session has an update with a seq above <paramref name="afterSeq"/> or is forgotten;
    /// false when <paramref name="timeout"/> passes first. One wait at a time; a wait allocates nothing.
    /// </summary>
    ValueTask<bool> WaitAsync(long afterSeq, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken);
}

public interface IRegistrySubscription : IDisposable
{
    /// <summary>
    /// True once the registry <see cref="IProgressRegistry.Version"/> passes <paramref name="afterVersion"/>;
    /// false when <paramref name="timeout"/> passes first. One wait at a time.
    /// </summary>
    ValueTask<bool> WaitAsync(long afterVersion, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken);
}

public static class SubscriptionExtensions
{
    /// <summary>The newest update with a seq above <paramref name="afterSeq"/>, waiting for one if needed; null when the session is forgotten.</summary>
    public static async ValueTask<ProgressUpdate?> NextAsync(this ISessionSubscription subscription, long afterSeq, CancellationToken cancellationToken)
    {
        await subscription.WaitAsync(afterSeq, Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);
        return subscription.Latest;
    }

    /// <summary>Completes when the registry's version passes <paramref name="afterVersion"/>.</summary>
    public static async ValueTask WaitAsync(this IRegistrySubscription subscription, long afterVersion, CancellationToken cancellationToken) =>
        await subscription.WaitAsync(afterVersion, Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);
}
