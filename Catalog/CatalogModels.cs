using IngestLite.Progress;

namespace IngestLite.Catalog;

/// <summary>One media file as committed to the catalog.</summary>
public sealed record MediaRecord(
    string Path,
    long Size,
    DateTimeOffset ModifiedAt,
    string Kind,
    string Sha256,
    int? Width = null,
    int? Height = null,
    DateTimeOffset? TakenAt = null,
    double? DurationSeconds = null,
    string? Prompt = null,
    string? NegativePrompt = null,
    int? Steps = null,
    string? Sampler = null,
    double? CfgScale = null,
    long? Seed = null,
    string? Model = null,
    string? ComfyPrompt = null,
    string? ComfyWorkflow = null,
    IReadOnlyList<string>? Keywords = null,
    IReadOnlyList<string>? Loras = null,
    double? Score = null,
    long? PerceptualHash = null,
    DateTimeOffset? IngestedAt = null,
    string? SessionId = null,
    string? Scheduler = null,
    string? ModelHash = null,
    string? Vae = null,
    double? Denoise = null,
    int? ClipSkip = null,
    double? HiresUpscale = null,
    string? HiresUpscaler = null,
    string? Generator = null,
    string? GeneratorVersion = null,
    int? Samplers = null,
    IReadOnlyList<LoraUse>? LoraWeights = null);

/// <summary>A LoRA a generation used, with its weight when known.</summary>
public sealed record LoraUse(string Name, double? Weight);

/// <summary>States a file can end in within a session.</summary>
public static class FileStates
{
    public const string Committed = "committed";
    public const string CommittedWithWarnings = "committed_with_warnings";
    public const string Skipped = "skipped";
    public const string Failed = "failed";

    /// <summary>Processed in a deferred session and held for its commit; not in the catalog yet.</summary>
    public const string Staged = "staged";
    public const string StagedWithWarnings = "staged_with_warnings";

    public static readonly IReadOnlyList<string> All = [Committed, CommittedWithWarnings, Skipped, Failed, Staged, StagedWithWarnings];

    /// <summary>The state a processed file is held in until its deferred commit.</summary>
    public static string ToStaged(string state) => state == CommittedWithWarnings ? StagedWithWarnings : Staged;

    /// <summary>The state a staged file takes once committed.</summary>
    public static string FromStaged(string state) => state == StagedWithWarnings ? CommittedWithWarnings : Committed;
}

/// <summary>What happened to one file of a session; <see cref="Seq"/> is its place in processing order.</summary>
public sealed record SessionFileResult(
    string Path,
    string State,
    string Stage,
    string? Reason,
    long Size,
    long DurationMs,
    long Seq = 0);

/// <summary>
/// A session's per-file results summed: files by outcome (failures at discovery, which are folders, apart),
/// and what the committed files added to the counters, as <see cref="FileTally"/> adds them live.
/// </summary>
public sealed record FileResultTotals(
    int Committed,
    int CommittedWithWarnings,
    int Failed,
    int FailedAtDiscovery,
    int Metadata,
    int Keywords,
    int Scores,
    int Warnings,
    int Staged = 0);

/// <summary>Which per-file results to read: a state, text in the path, after a cursor, how many.</summary>
public sealed record FileResultFilter(string? State, string? Text, long After, int? Limit);

/// <summary>A session row: its parameters and the last snapshot saved for it.</summary>
public sealed record SessionRecord(
    string Id,
    string ParametersJson,
    string Status,
    DateTimeOffset CreatedAt,
    string SnapshotJson,
    string? ParentId)
{
    public ProgressSnapshot Snapshot => StoredSnapshot.FromText(SnapshotJson);
}

/// <summary>A hit of the catalog search, shaped for the API.</summary>
public sealed record MediaHit(
    long Id,
    string Path,
    string Kind,
    long Size,
    int? Width,
    int? Height,
    DateTimeOffset? TakenAt,
    double? DurationSeconds,
    string? Prompt,
    IReadOnlyList<string> Keywords,
    double? Score,
    string? Phash,
    DateTimeOffset IngestedAt,
    DateTimeOffset ModifiedAt,
    string Sha256,
    GenerationFields? Parameters,
    DateTimeOffset? MissingAt = null)
{
    /// <summary>Its thumbnail, versioned by content: the URL changes when the file does, so it can be cached for good.</summary>
    public string ThumbnailUrl => $"/api/media/{Id}/thumbnail?v={Sha256[..Math.Min(16, Sha256.Length)]}";
}

/// <summary>How a file was generated, as the catalog holds it (null fields: not recorded).</summary>
public sealed record GenerationFields(
    string? NegativePrompt,
    int? Steps,
    string? Sampler,
    string? Scheduler,
    double? CfgScale,
    long? Seed,
    string? Model,
    string? ModelHash,
    string? Vae,
    double? Denoise,
    int? ClipSkip,
    double? HiresUpscale,
    string? HiresUpscaler,
    string? Generator,
    string? Version,
    int? Samplers,
    IReadOnlyList<LoraUse> Loras);

/// <summary>A deferred session's file held for its commit: its place, its record, its state once committed.</summary>
public sealed record StagedFile(long Ord, MediaRecord Record, string CommittedState);

/// <summary>A file found by discovery, by its root-relative path.</summary>
public sealed record DiscoveredFile(string Path, long Size, DateTimeOffset ModifiedAt);

/// <summary>What discovery made of one path.</summary>
public enum DiscoveryKind
{
    /// <summary>To ingest.</summary>
    Pending,

    /// <summary>Catalogued already, unchanged (skip_existing).</summary>
    Skipped,

    /// <summary>A folder that could not be listed (its path; the reason says why).</summary>
    Problem,
}

/// <summary>The last place (ord) and done number a session's discovered files used, to number the next chunk after.</summary>
public readonly record struct DiscoveredPlace(long Ord, long Done);

/// <summary>One thing discovery found, as it finds it (see FileDiscovery.Enumerate).</summary>
public readonly record struct DiscoveryItem(DiscoveryKind Kind, DiscoveredFile File, string? Reason = null);

/// <summary>A folder that could not be listed; it becomes a session error.</summary>
public sealed record DiscoveryProblem(string Path, string Message);

/// <summary>What discovery found for a session: the files to ingest, those skipped as unchanged, the folders it could not list.</summary>
public sealed record DiscoveryResult(
    IReadOnlyList<DiscoveredFile> Files,
    IReadOnlyList<DiscoveredFile> Skipped,
    IReadOnlyList<DiscoveryProblem> Problems);

/// <summary>What one finished file adds to the session's counters (stored with its result, see CatalogStore.CommitFileAsync).</summary>
public readonly record struct FileTally(bool Committed, bool Metadata, int Keywords, bool Score, int Warnings);
