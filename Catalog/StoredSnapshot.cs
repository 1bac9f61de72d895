using System.Text.Json;
using IngestLite.Progress;

namespace IngestLite.Catalog;

/// <summary>
/// The catalog's durable copy of a session's snapshot, as its own record with its own JSON, so the
/// database shape does not change whenever the wire does: <see cref="ProgressWire"/> may add, rename or
/// derive fields, and only the mapping here follows. Its names are the snake_case ones catalogs have held
/// from the start (rows written before this record read as they are); what the wire derives (the
/// <c>errors</c> text list) is not stored. <c>current_file</c> holds the path in the media root (the wire's
/// <c>current_path</c>); rows from before commit modes have no <c>commit_mode</c> and read as per-file.
/// </summary>
public sealed record StoredSnapshot(
    string SessionId,
    string Status,
    int Progress,
    int TotalFiles,
    string? CurrentFile,
    string? CurrentStage,
    int ProcessedFiles,
    DateTimeOffset StartTime,
    DateTimeOffset? EndTime,
    StoredSnapshot.Counters Stats,
    IReadOnlyList<StoredSnapshot.Failure> ErrorDetails,
    long Seq,
    DateTimeOffset UpdatedAt,
    double FilesPerSecond,
    double? EtaSeconds,
    long? CurrentFileBytes,
    long? CurrentFileSize,
    string? Message,
    string? ParentSessionId,
    bool Stalled,
    string? CommitMode = null,
    int CommitProgress = 0,
    string? CommitError = null,
    string? JobId = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The stored text of <paramref name="snapshot"/>.</summary>
    public static string ToText(ProgressSnapshot snapshot) => JsonSerializer.Serialize(From(snapshot), Json);

    /// <summary>The snapshot a stored text holds.</summary>
    public static ProgressSnapshot FromText(string text) =>
        (JsonSerializer.Deserialize<StoredSnapshot>(text, Json) ?? throw new JsonException("a stored snapshot is null")).ToSnapshot();

    public static StoredSnapshot From(ProgressSnapshot s) => new(
        s.SessionId, s.Status.ToWire(), s.Progress, s.TotalFiles, s.CurrentPath, s.CurrentStage, s.ProcessedFiles,
        s.StartTime, s.EndTime,
        new Counters(s.Stats.TotalFiles, s.Stats.TotalDiscovered, s.Stats.SkippedExisting, s.Stats.ProcessedFiles, s.Stats.MetadataExtracted,
            s.Stats.KeywordsAdded, s.Stats.ScoresImported, s.Stats.CommittedFiles, s.Stats.Errors, s.Stats.Warnings),
        [.. s.ErrorDetails.Select(e => new Failure(e.File, e.Stage, e.Message, e.At))],
        s.Seq, s.UpdatedAt, s.FilesPerSecond, s.EtaSeconds, s.CurrentFileBytes, s.CurrentFileSize, s.Message, s.ParentSessionId, s.Stalled,
        s.CommitMode == IngestLite.Progress.CommitMode.Deferred ? "deferred" : "per_file", s.CommitProgress, s.CommitError, s.JobId);

    public ProgressSnapshot ToSnapshot()
    {
        var details = (ErrorDetails ?? []).Select(e => new FileError(e.File, e.Stage, e.Message, e.At)).ToList();
        var stats = Stats ?? new Counters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        return new ProgressSnapshot(
            SessionId, ParseStatus(Status), Progress, TotalFiles, CurrentFile, CurrentStage, ProcessedFiles, StartTime, EndTime,
            new SessionStats(stats.TotalFiles, stats.TotalDiscovered, stats.SkippedExisting, stats.ProcessedFiles, stats.MetadataExtracted,
                stats.KeywordsAdded, stats.ScoresImported, stats.CommittedFiles, stats.Errors, stats.Warnings),
            [.. details.Select(e => e.ToString())], details, Seq, UpdatedAt, FilesPerSecond, EtaSeconds,
            CurrentFileBytes, CurrentFileSize, Message, ParentSessionId, Stalled,
            CommitMode == "deferred" ? IngestLite.Progress.CommitMode.Deferred : IngestLite.Progress.CommitMode.PerFile, CommitProgress, CommitError, JobId);
    }

    private static SessionStatus ParseStatus(string status) =>
        Enum.GetValues<SessionStatus>().FirstOrDefault(s => s.ToWire() == status, SessionStatus.Interrupted);

    /// <summary>The session's counters as stored.</summary>
    public sealed record Counters(
        int TotalFiles, int TotalDiscovered, int SkippedExisting, int ProcessedFiles, int MetadataExtracted,
        int KeywordsAdded, int ScoresImported, int CommittedFiles, int Errors, int Warnings);

    /// <summary>One recent failure as stored.</summary>
    public sealed record Failure(string File, string Stage, string Message, DateTimeOffset At);
}
