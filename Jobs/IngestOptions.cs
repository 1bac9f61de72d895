using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>Settings of section <c>Ingest</c>; relative paths are resolved against the content root.</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>The only tree the app may read.</summary>
    [Required(AllowEmptyStrings = false)]
    public string MediaRoot { get; set; } = "media";

    /// <summary>The SQLite catalog file.</summary>
    [Required(AllowEmptyStrings = false)]
    public string CatalogPath { get; set; } = "data/catalog.db";

    /// <summary>Files processed in parallel by one ingest job.</summary>
    [Range(1, 64)]
    public int WorkerCount { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>How long a finished session stays in memory; its history stays in the catalog.</summary>
    public TimeSpan SessionRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Optional throttle, to spare a slow disk or NAS. Null means as fast as possible.</summary>
    [Range(0.01, 1_000_000)]
    public double? MaxFilesPerSecond { get; set; }

    /// <summary>Files above this size report their hashing progress in bytes.</summary>
    [Range(1, long.MaxValue)]
    public long LargeFileBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>A file still unfinished after this long fails with a timeout; the run moves on.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan FileTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A running session with no change for this long is marked stalled by the watchdog.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// <c>PerFile</c>: each file is committed as it is processed. <c>Deferred</c>: files are staged and reach the
    /// catalog only on <c>POST /api/ingest/commit</c>. A request's <c>commit_mode</c> overrides it.
    /// </summary>
    public IngestLite.Progress.CommitMode CommitMode { get; set; } = IngestLite.Progress.CommitMode.PerFile;

    /// <summary>Where thumbnails are kept, one WebP per distinct content (by SHA-256); by default <c>thumbnails/</c> beside the catalog.</summary>
    public string? ThumbnailPath { get; set; }

    /// <summary>A thumbnail's longest side in pixels; 0 makes none during ingest (they are then made when first asked for).</summary>
    [Range(0, 2048)]
    public int ThumbnailSize { get; set; } = 320;

    /// <summary>Images whose perceptual hashes differ in at most this many of 64 bits are near-duplicates (up to 7 is indexed).</summary>
    [Range(0, 32)]
    public int NearDuplicateDistance { get; set; } = 6;
}

/// <summary>Cross-field checks with messages a person can act on.</summary>
public sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var failures = new List<string>();
        if (options.SessionRetention <= TimeSpan.Zero)
        {
            failures.Add($"Ingest:SessionRetention must be positive (got '{options.SessionRetention}').");
        }

        if (options.MediaRoot.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"Ingest:MediaRoot '{options.MediaRoot}' is not a valid path.");
        }

        if (options.CatalogPath.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || options.CatalogPath.EndsWith('/'))
        {
            failures.Add($"Ingest:CatalogPath '{options.CatalogPath}' must name a file.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
