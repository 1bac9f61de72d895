namespace IngestLite.Jobs;

/// <summary>What a client asks to ingest; field names are snake_case on the wire.</summary>
public sealed record IngestParameters
{
    public string? Directory { get; init; }

    public IReadOnlyList<string>? Directories { get; init; }

    public string? Pattern { get; init; }

    public bool Recursive { get; init; }

    public bool ExtractMetadata { get; init; } = true;

    public bool ExtractKeywords { get; init; } = true;

    public bool ImportScores { get; init; } = true;

    public bool SkipExisting { get; init; } = true;

    public int? MaxFiles { get; init; }

    /// <summary>When the files reach the catalog; null takes <see cref="IngestOptions.CommitMode"/>.</summary>
    public IngestLite.Progress.CommitMode? CommitMode { get; init; }

    /// <summary>Accepted for the replaced app's clients and kept with the session; IngestLite has no NSFW classifier.</summary>
    public bool EnableNsfwDetection { get; init; }

    /// <summary>Accepted for the replaced app's clients (0 to 1); unused.</summary>
    public double? NsfwThreshold { get; init; }
}
