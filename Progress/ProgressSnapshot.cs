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

    /// <summary>A deferred session's staged files are being written to the catalog.</summary>
    [JsonStringEnumMemberName("committing")] Committing,
    [JsonStringEnumMemberName("committed")] Committed,
    [JsonStringEnumMemberName("commit_error")] CommitError,

    /// <summary>A watch's session: never finished while the watch lasts; its counts grow as files arrive.</summary>
    [JsonStringEnumMemberName("watching")] Watching,
}

/// <summary>
/// When a session's files reach the catalog: each as it is processed (<c>per_file</c>, so a crash loses
/// nothing), or all on an explicit commit after the report was reviewed (<c>deferred</c>, upstream's workflow).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<CommitMode>))]
public enum CommitMode
{
    [JsonStringEnumMemberName("per_file")] PerFile,
    [JsonStringEnumMemberName("deferred")] Deferred,
}

public static class SessionStatusExtensions
{
    private static readonly string[] WireNames = ["starting", "processing", "completed", "error", "cancelled", "interrupted", "committing", "committed", "commit_error", "watching"];

    /// <summary>
    /// Nothing runs for the session: its stream ends. A deferred session rests at <c>completed</c> until it is
    /// committed, and a commit that failed may be tried again; both then run (and stream) once more.
    /// </summary>
    public static bool IsTerminal(this SessionStatus status) =>
        status is not (SessionStatus.Starting or SessionStatus.Processing or SessionStatus.Committing or SessionStatus.Watching);

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

    /// <summary>Always 0: IngestLite has no NSFW classifier. Kept because the replaced app's clients read it.</summary>
    public int NsfwDetected => 0;
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
    string? CurrentPath,
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
    bool Stalled = false,
    CommitMode CommitMode = CommitMode.PerFile,
    int CommitProgress = 0,
    string? CommitError = null,
    string? JobId = null)
{
    /// <summary>The current file's name, as the replaced app showed it; <see cref="CurrentPath"/> has its path in the media root.</summary>
    public string? CurrentFile => CurrentPath is null ? null : System.IO.Path.GetFileName(CurrentPath);

    /// <summary>Why a session ended in <c>error</c> (also in <see cref="Message"/>): the replaced app's clients read <c>error</c>.</summary>
    public string? Error => Status == SessionStatus.Error ? Message : null;
}
