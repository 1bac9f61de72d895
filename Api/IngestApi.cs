using System.Text.Encodings.Web;
using System.Text.Json;
using IngestLite.Catalog;
using IngestLite.Http;
using IngestLite.Jobs;
using IngestLite.Jobs.Watching;
using IngestLite.Progress;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace IngestLite.Api;

/// <summary>The ingest commands and history: start, cancel, resume, forget, list, browse, report.</summary>
public static class IngestApi
{
    /// <summary>Request bodies are small JSON objects; anything larger is refused before it is read.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    private const int MaxListedDirectories = 2000;

    public sealed record ProcessRequest(IngestParameters? Parameters);

    public sealed record ActiveSession(string? SessionId, SessionStatus? Status, ProgressSnapshot? Snapshot);

    public sealed record CommitRequest(string? SessionId);

    public sealed record CommitStarted(string SessionId, string Status = "commit_started");

    /// <summary>Upstream's commit-status keys, plus the session's mode and the files in the catalog.</summary>
    public sealed record CommitStatus(
        string SessionId, SessionStatus Status, int CommitProgress, IReadOnlyList<string> CommitErrors, string? CommitError,
        CommitMode CommitMode, int CommittedFiles);

    public sealed record CleanedUp(string Status = "cleaned_up");

    public sealed record FileTypeList(IReadOnlyList<string> FileTypes);

    /// <summary>A sub-folder: <c>path</c> absolute (as upstream), <c>relative_path</c> in the media root.</summary>
    public sealed record DirectoryEntry(string Name, string Path, string RelativePath, bool HasChildren, int TotalFiles, int IngestedFiles);

    public sealed record FileSummary(int TotalFiles, int IngestedFiles, IReadOnlyDictionary<string, int> ByExtension);

    /// <summary>
    /// A folder as upstream lists it (<c>path</c> and <c>parent</c> absolute, <c>parent</c> null at the root, <c>file_summary</c>
    /// its text), with the same in the media root's terms (<c>relative_path</c>, <c>relative_parent</c>) and the media counts in <c>files</c>.
    /// </summary>
    public sealed record DirectoryListing(
        string Path, string? Parent, IReadOnlyList<DirectoryEntry> Directories, string FileSummary,
        string RelativePath, string? RelativeParent, FileSummary Files);

    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/ingest").WithTags("Ingest");
        group.MapPost("/process", ProcessAsync).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        group.MapPost("/cancel/{sessionId}", CancelAsync);
        group.MapPost("/resume/{sessionId}", ResumeAsync);
        group.MapDelete("/session/{sessionId}", DeleteAsync);
        group.MapPost("/commit", CommitAsync).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        group.MapGet("/commit-status/{sessionId}", CommitStatusAsync);
        group.MapGet("/sessions", ListAsync);
        group.MapGet("/active-session", async (IngestSessions sessions, CancellationToken cancellationToken) =>
            TypedResults.Ok(await sessions.ActiveAsync(cancellationToken) is { } active ? new ActiveSession(active.SessionId, active.Status, active) : new ActiveSession(null, null, null)));
        group.MapGet("/directories", DirectoriesAsync);
        group.MapPost("/file-types", FileTypesAsync).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        group.MapGet("/report/{sessionId}", ReportAsync);
        return routes;
    }

    /// <summary>Reads a small JSON body, or says which field is wrong (or that it is not JSON, or too large).</summary>
    internal static async Task<(T? Body, IResult? Problem)> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return (default, Problems.Invalid("body", "must be JSON (Content-Type: application/json)"));
        }

        try
        {
            return (await JsonSerializer.DeserializeAsync<T>(request.Body, ProgressWire.Options, cancellationToken), null);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            return (default, Problems.Invalid(field, "is not valid JSON of the expected type"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request body is too large.",
                detail: $"body: must be at most {MaxBodyBytes} bytes"));
        }
    }

    private static async Task<IResult> ProcessAsync(HttpRequest request, IngestSessions sessions, CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadJsonAsync<ProcessRequest>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (body?.Parameters is not { } parameters)
        {
            return Problems.Invalid("parameters", "is required: send {\"parameters\": {...}}");
        }

        var (started, error) = await sessions.StartAsync(parameters, parentId: null, cancellationToken);
        return error is not null ? Problems.Invalid(error.Field, error.Reason) : TypedResults.Ok(started!);
    }

    private static async Task<IResult> CommitAsync(HttpRequest request, IngestSessions sessions, CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadJsonAsync<CommitRequest>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body?.SessionId))
        {
            return Problems.Invalid("session_id", "is required: send {\"session_id\": \"...\"}");
        }

        var (snapshot, error) = await sessions.CommitAsync(body.SessionId, cancellationToken);
        if (snapshot is null)
        {
            return Problems.UnknownSession(body.SessionId);
        }

        return error is not null ? Problems.Invalid(error.Field, error.Reason) : TypedResults.Ok(new CommitStarted(snapshot.SessionId));
    }

    private static async Task<Results<Ok<CommitStatus>, ProblemHttpResult>> CommitStatusAsync(
        string sessionId, IngestSessions sessions, CancellationToken cancellationToken)
    {
        if (await sessions.FindAsync(sessionId, cancellationToken) is not { } s)
        {
            return Problems.UnknownSession(sessionId);
        }

        var errors = s.ErrorDetails.Where(e => e.Stage == "commit").Select(e => e.ToString()).TakeLast(10).ToList();
        return TypedResults.Ok(new CommitStatus(s.SessionId, s.Status, s.CommitProgress, errors, s.CommitError, s.CommitMode, s.Stats.CommittedFiles));
    }

    /// <summary>Cancels a run; a watch's session stops its watch (it ends <c>cancelled</c>, as <c>DELETE /api/watch/{id}</c> does).</summary>
    internal static async Task<Results<Ok<ProgressSnapshot>, ProblemHttpResult>> CancelAsync(
        string sessionId, IngestSessions sessions, WatchService watches, CancellationToken cancellationToken)
    {
        await watches.StopSessionAsync(sessionId, cancellationToken);
        return await sessions.CancelAsync(sessionId, cancellationToken) is { } snapshot ? TypedResults.Ok(snapshot) : Problems.UnknownSession(sessionId);
    }

    private static async Task<Results<Ok<ProgressSnapshot>, ProblemHttpResult>> ResumeAsync(
        string sessionId, IngestSessions sessions, CancellationToken cancellationToken)
    {
        var (snapshot, error) = await sessions.ResumeAsync(sessionId, cancellationToken);
        if (snapshot is null)
        {
            return Problems.UnknownSession(sessionId);
        }

        return error is null
            ? TypedResults.Ok(snapshot)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The session cannot be resumed.", detail: $"{error.Field}: {error.Reason}");
    }

    /// <summary>As upstream: 200 <c>cleaned_up</c>, also for a session already gone (deleting is idempotent); 400 for an id that is no session id.</summary>
    private static async Task<Results<Ok<CleanedUp>, ValidationProblem>> DeleteAsync(
        string sessionId, IngestSessions sessions, WatchService watches, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(sessionId, out _))
        {
            return Problems.Invalid("session_id", $"'{sessionId}' is not a session id");
        }

        await watches.StopSessionAsync(sessionId, cancellationToken);
        await sessions.DeleteAsync(sessionId, cancellationToken);
        return TypedResults.Ok(new CleanedUp());
    }

    private static async Task<Results<Ok<IReadOnlyList<ProgressSnapshot>>, ValidationProblem>> ListAsync(
        IngestSessions sessions, CancellationToken cancellationToken, int limit = 50)
    {
        if (limit is < 1 or > 1000)
        {
            return Problems.Invalid("limit", "must be between 1 and 1000");
        }

        return TypedResults.Ok(await sessions.ListAsync(limit, cancellationToken));
    }

    private static async Task<Results<Ok<DirectoryListing>, ValidationProblem, ProblemHttpResult>> DirectoriesAsync(
        MediaRoot root, IMediaCatalog catalog, HttpResponse response, CancellationToken cancellationToken, string? path = null)
    {
        if (!root.TryResolve(path, out var full, out var reason))
        {
            return Problems.Invalid("path", $"'{path}' {reason}");
        }

        if (!Directory.Exists(full))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Directory not found.", detail: $"path: '{path}' does not exist or is not a folder");
        }

        FilePattern.TryParse(null, out var media, out _);
        var children = new List<(string Name, string Relative, string Full)>();
        foreach (var child in SafeList(() => new DirectoryInfo(full).EnumerateDirectories()).OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            var real = MediaRoot.RealPath(child.FullName);
            if (child.Name.StartsWith('.') || real is null || !root.Contains(real))
            {
                continue;
            }

            children.Add((child.Name, root.ToRelative(child.FullName), child.FullName));
            if (children.Count == MaxListedDirectories)
            {
                break;
            }
        }

        var relative = root.ToRelative(full);
        var ingested = await catalog.CountByDirectoryAsync(children.Select(c => c.Relative).Append(relative), cancellationToken);
        var entries = children.Select(c => new DirectoryEntry(
            c.Name,
            c.Full,
            c.Relative,
            SafeList(() => new DirectoryInfo(c.Full).EnumerateDirectories()).Any(d => !d.Name.StartsWith('.')),
            SafeList(() => new DirectoryInfo(c.Full).EnumerateFiles()).Count(f => media.IsMatch(f.Name)),
            ingested.GetValueOrDefault(c.Relative))).ToList();

        var files = SafeList(() => new DirectoryInfo(full).EnumerateFiles()).ToList();
        var here = files.Where(f => media.IsMatch(f.Name)).ToList();
        var byExtension = here.GroupBy(f => f.Extension.ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count());
        var parent = relative.Length == 0 ? null : (Path.GetDirectoryName(relative)?.Replace('\\', '/') ?? "");

        // As upstream: never cached, so a listing reopened after an ingest shows its new counts.
        response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
        return TypedResults.Ok(new DirectoryListing(
            full, parent is null ? null : root.ToFull(parent), entries, UpstreamSummary(files), relative, parent,
            new FileSummary(here.Count, ingested.GetValueOrDefault(relative), byExtension)));
    }

    /// <summary>Upstream's <c>file_summary</c>: every file of the folder counted by extension, "3 png, 1 txt", or "No files".</summary>
    private static string UpstreamSummary(IEnumerable<FileInfo> files)
    {
        var counts = files.GroupBy(f => f.Extension.ToLowerInvariant()).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Count()} {(g.Key.Length == 0 ? "no extension" : g.Key[1..])}").ToList();
        return counts.Count == 0 ? "No files" : string.Join(", ", counts);
    }

    /// <summary>
    /// Upstream's file types: the media extensions (without the dot) of the files directly in the given folders.
    /// A folder outside the media root is refused (upstream skipped it silently); one that no longer exists adds nothing.
    /// </summary>
    private static async Task<IResult> FileTypesAsync(HttpRequest request, MediaRoot root, CancellationToken cancellationToken)
    {
        var (folders, problem) = await ReadJsonAsync<List<string>>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (folders is null)
        {
            return Problems.Invalid("body", "must be a JSON array of folders");
        }

        if (folders.Count > 1000)
        {
            return Problems.Invalid("body", "at most 1000 folders");
        }

        FilePattern.TryParse(null, out var media, out _);
        var types = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < folders.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(folders[i]))
            {
                return Problems.Invalid($"[{i}]", "must not be empty");
            }

            if (!root.TryResolve(folders[i], out var full, out var reason))
            {
                return Problems.Invalid($"[{i}]", $"'{folders[i]}' {reason}");
            }

            foreach (var file in SafeList(() => new DirectoryInfo(full).EnumerateFiles()))
            {
                if (media.IsMatch(file.Name))
                {
                    types.Add(file.Extension.TrimStart('.').ToLowerInvariant());
                }
            }
        }

        return TypedResults.Ok(new FileTypeList([.. types]));
    }

    private static IEnumerable<T> SafeList<T>(Func<IEnumerable<T>> list)
    {
        try
        {
            return list().ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> ReportAsync(
        string sessionId, IngestSessions sessions, ISessionStore catalog, CancellationToken cancellationToken)
    {
        var snapshot = await sessions.FindAsync(sessionId, cancellationToken);
        if (snapshot is null)
        {
            return Problems.UnknownSession(sessionId);
        }

        var failed = await catalog.FileResultsAsync(sessionId, FileStates.Failed, 1000, cancellationToken);
        var sample = await catalog.FileResultsAsync(sessionId, null, 25, cancellationToken);
        return TypedResults.Content(SessionReport.Render(snapshot, failed, sample), "text/html; charset=utf-8");
    }
}

/// <summary>The plain HTML report of one session. Every value is HTML-encoded: file names and reasons come from untrusted files.</summary>
public static class SessionReport
{
    public static string Render(ProgressSnapshot s, IReadOnlyList<SessionFileResult> failed, IReadOnlyList<SessionFileResult> sample)
    {
        var e = HtmlEncoder.Default;
        var html = new System.Text.StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>IngestLite report ")
            .Append(e.Encode(s.SessionId)).Append("</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head><body class=\"report\">")
            .Append("<h1>Ingest report</h1><p>Session <code id=\"report-session\">").Append(e.Encode(s.SessionId))
            .Append("</code>: <strong id=\"report-status\">").Append(e.Encode(s.Status.ToWire())).Append("</strong>");
        if (s.Message is not null)
        {
            html.Append(" — ").Append(e.Encode(s.Message));
        }

        html.Append("</p>");
        if (s.CommitMode == CommitMode.Deferred)
        {
            // A deferred session's report is its preview: what a commit writes, and whether it has.
            html.Append("<p id=\"report-commit\">").Append(s.Status switch
            {
                SessionStatus.Completed => "Preview: the processed files without errors are staged, not in the catalog yet. Commit writes them; deleting the session discards them.",
                SessionStatus.Committing => $"Committing: {s.CommitProgress}%, {s.Stats.CommittedFiles} files in the catalog so far.",
                SessionStatus.Committed => $"Committed: {s.Stats.CommittedFiles} files in the catalog.",
                SessionStatus.CommitError => $"The commit failed ({e.Encode(s.CommitError ?? "")}); {s.Stats.CommittedFiles} files are in the catalog, the rest still staged.",
                _ => "Deferred commit: files are staged as they are processed, and reach the catalog on commit.",
            }).Append("</p>");
        }

        html.Append("<p>Started ").Append(e.Encode(s.StartTime.ToString("u"))).Append(s.EndTime is { } end ? ", ended " + e.Encode(end.ToString("u")) : "").Append(".</p>");
        html.Append("<table id=\"report-stats\"><tbody>");
        foreach (var (name, value) in new (string, int)[]
                 {
                     ("Discovered", s.Stats.TotalDiscovered), ("To ingest", s.Stats.TotalFiles), ("Skipped (unchanged)", s.Stats.SkippedExisting),
                     ("Processed", s.Stats.ProcessedFiles), ("Committed", s.Stats.CommittedFiles), ("Metadata extracted", s.Stats.MetadataExtracted),
                     ("Keywords added", s.Stats.KeywordsAdded), ("Scores imported", s.Stats.ScoresImported), ("Warnings", s.Stats.Warnings), ("Errors", s.Stats.Errors),
                 })
        {
            html.Append("<tr><th scope=\"row\">").Append(name).Append("</th><td>").Append(value).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
        AppendFiles(html, e, "Errors", "report-errors", failed.Count > 0 ? failed : [.. s.ErrorDetails.Select(d => new SessionFileResult(d.File, FileStates.Failed, d.Stage, d.Message, 0, 0))]);
        AppendFiles(html, e, "Sample of files", "report-sample", sample);
        return html.Append("</body></html>").ToString();
    }

    private static void AppendFiles(System.Text.StringBuilder html, HtmlEncoder e, string title, string id, IReadOnlyList<SessionFileResult> rows)
    {
        html.Append("<h2>").Append(title).Append("</h2>");
        if (rows.Count == 0)
        {
            html.Append("<p>None.</p>");
            return;
        }

        html.Append("<table id=\"").Append(id).Append("\"><thead><tr><th>File</th><th>State</th><th>Stage</th><th>Reason</th></tr></thead><tbody>");
        foreach (var r in rows)
        {
            html.Append("<tr><td>").Append(e.Encode(r.Path)).Append("</td><td>").Append(e.Encode(r.State)).Append("</td><td>")
                .Append(e.Encode(r.Stage)).Append("</td><td>").Append(e.Encode(r.Reason ?? "")).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
    }
}
