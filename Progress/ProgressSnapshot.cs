using System.Text.Json.Serialization;

namespace IngestLite.Progress;

/// <summary>Where a session stands. Terminal states end the stream.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SessionStatus>))]
public enum SessionStatus
{
    [JsonStringEnumMemberName("starting")] Starting,
    [JsonStringEnumMemberName("processing")] Processing,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("error")] Error,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    [JsonStringEnumMemberName("interrupted")] Interrupted,
}

public static class SessionStatusExtensions
{
    private static readonly string[] WireNames = ["starting", "processing", "completed", "error", "cancelled", "interrupted"];

    public static bool IsTerminal(this SessionStatus status) => status >= SessionStatus.Completed;

    /// <summary>The name the API and the catalog use (the JSON value).</summary>
    public static string ToWire(this SessionStatus status) => WireNames[(int)status];
}

/// <summary>Counters of one session; the same object the legacy API exposed as <c>stats</c>.</summary>
public sealed record SessionStats(
    int TotalFiles,
    int TotalDiscovered,
    int SkippedExisting,
    int ProcessedFiles,
    int MetadataExtracted,
    int KeywordsAdded,
    int ScoresImported,
    int CommittedFiles,
    int Errors,
    int Warnings = 0)
{
    public static readonly SessionStats Empty = new(0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>One per-file failure, as reported in <c>error_details</c>.</summary>
public sealed record FileError(string File, string Stage, string Message, DateTimeOffset At)
{
    public override string ToString() => $"{File}: {Stage}: {Message}";
}

/// <summary>
/// The immutable state of one session at one <see cref="Seq"/>. The status endpoint and the
/// event stream serialize exactly this object, so both channels show the same JSON.
/// </summary>
public sealed record ProgressSnapshot(
    string SessionId,
    SessionStatus Status,
    int Progress,
    int TotalFiles,
    string? CurrentFile,
    string? CurrentStage,
    int ProcessedFiles,
    DateTimeOffset StartTime,
    DateTimeOffset? EndTime,
    SessionStats Stats,
    IReadOnlyList<string> Errors,
    IReadOnlyList<FileError> ErrorDetails,
    long Seq,
    DateTimeOffset UpdatedAt,
    double FilesPerSecond,
    double? EtaSeconds,
    long? CurrentFileBytes = null,
    long? CurrentFileSize = null,
    string? Message = null,
    string? ParentSessionId = null,
    bool Stalled = false);
