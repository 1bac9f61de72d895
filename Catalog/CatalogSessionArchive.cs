using IngestLite.Progress;

namespace IngestLite.Catalog;

/// <summary>The catalog's saved snapshots, as the progress endpoints read them.</summary>
public sealed class CatalogSessionArchive(ISessionStore sessions) : ISessionArchive
{
    public async Task<ProgressSnapshot?> FindAsync(string sessionId, CancellationToken cancellationToken) =>
        (await sessions.GetSessionAsync(sessionId, cancellationToken))?.Snapshot;
}
