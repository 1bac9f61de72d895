using Hangfire;
using IngestLite.Catalog;
using IngestLite.Jobs.Stages;

namespace IngestLite.Jobs;

/// <summary>What a re-read of the catalog's metadata did.</summary>
public sealed record ReparseOutcome(int Read, int Updated, int Missing, int Unreadable);

/// <summary>
/// Re-reads the metadata of every catalogued file after a parser upgrade, and rewrites the fields it gives
/// (generation settings, LoRAs, keywords, dimensions, dates). Files are not hashed again: a row keeps its hash,
/// perceptual hash, score, session and ingest time. A file that is gone or unreadable is counted and left as it is.
/// </summary>
public sealed partial class ReparseJob(IMediaCatalog catalog, MediaRoot root, ILogger<ReparseJob> logger)
{
    private const int Page = 500;

    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("Re-read the metadata of the catalogued files")]
    public async Task<ReparseOutcome> RunAsync(CancellationToken cancellationToken)
    {
        int read = 0, updated = 0, missing = 0, unreadable = 0;
        var after = 0L;
        while (await catalog.PageAsync(after, Page, cancellationToken) is { Count: > 0 } page)
        {
            foreach (var (id, record) in page)
            {
                after = id;
                read++;
                var real = MediaRoot.RealPath(root.ToFull(record.Path));
                if (real is null || !root.Contains(real) || !File.Exists(real))
                {
                    missing++;
                    continue;
                }

                MediaMetadata metadata;
                try
                {
                    metadata = MediaMetadataReader.Read(real);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    unreadable++;
                    continue;
                }

                var keywords = metadata.PositivePrompt is { } prompt ? KeywordParser.Parse(prompt) : null;
                await catalog.ReplaceAsync(FileProcessor.WithMetadata(record, metadata, keywords), cancellationToken);
                updated++;
            }
        }

        LogDone(logger, read, updated, missing, unreadable);
        return new ReparseOutcome(read, updated, missing, unreadable);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Metadata re-read: {Read} files, {Updated} updated, {Missing} gone, {Unreadable} unreadable")]
    private static partial void LogDone(ILogger logger, int read, int updated, int missing, int unreadable);
}
