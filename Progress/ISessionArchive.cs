namespace IngestLite.Progress;

/// <summary>
/// Where the endpoints find a session the registry no longer holds: its last saved snapshot. The catalog
/// implements it, so Progress needs to know nothing about storage.
/// </summary>
public interface ISessionArchive
{
    Task<ProgressSnapshot?> FindAsync(string sessionId, CancellationToken cancellationToken);
}
