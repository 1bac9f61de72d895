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
}
