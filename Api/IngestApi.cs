using System.Text.Encodings.Web;
using System.Text.Json;
using IngestLite.Catalog;
using IngestLite.Http;
using IngestLite.Jobs;
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

    public sealed record DirectoryEntry(string Name, string Path, bool HasChildren, int TotalFiles, int IngestedFiles);

    public sealed record FileSummary(int TotalFiles, int IngestedFiles, IReadOnlyDictionary<string, int> ByExtension);

    public sealed record DirectoryListing(string Path, string? Parent, IReadOnlyList<DirectoryEntry> Directories, FileSummary FileSummary);

    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/ingest").WithTags("Ingest");
        group.MapPost("/process", ProcessAsync).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        group.MapPost("/cancel/{sessionId}", CancelAsync);
        group.MapPost("/resume/{sessionId}", ResumeAsync);
        group.MapDelete("/session/{sessionId}", DeleteAsync);
        group.MapGet("/sessions", ListAsync);
        group.MapGet("/active-session", (IngestSessions sessions) =>
            TypedResults.Ok(sessions.Active() is { } active ? new ActiveSession(active.SessionId, active.Status, active) : new ActiveSession(null, null, null)));
        group.MapGet("/directories", DirectoriesAsync);
        group.MapGet("/report/{sessionId}", ReportAsync);
        return routes;
    }

    private static async Task<Results<Ok<StartedSession>, ValidationProblem, ProblemHttpResult>> ProcessAsync(
        HttpRequest request, IngestSessions sessions, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return Problems.Invalid("body", "must be JSON (Content-Type: application/json)");
        }

        ProcessRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<ProcessRequest>(request.Body, ProgressWire.Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            return Problems.Invalid(field, "is not valid JSON of the expected type");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request body is too large.",
                detail: $"body: must be at most {MaxBodyBytes} bytes");
        }

        if (body?.Parameters is not { } parameters)
        {
            return Problems.Invalid("parameters", "is required: send {\"parameters\": {...}}");
        }

        var (started, error) = await sessions.StartAsync(parameters, parentId: null, cancellationToken);
        return error is not null ? Problems.Invalid(error.Field, error.Reason) : TypedResults.Ok(started!);
    }

    private static async Task<Results<Ok<ProgressSnapshot>, ProblemHttpResult>> CancelAsync(
        string sessionId, IngestSessions sessions, CancellationToken cancellationToken) =>
        await sessions.CancelAsync(sessionId, cancellationToken) is { } snapshot ? TypedResults.Ok(snapshot) : Problems.UnknownSession(sessionId);

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

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string sessionId, IngestSessions sessions, CancellationToken cancellationToken) =>
        await sessions.DeleteAsync(sessionId, cancellationToken) ? TypedResults.NoContent() : Problems.UnknownSession(sessionId);

    private static async Task<Results<Ok<IReadOnlyList<ProgressSnapshot>>, ValidationProblem>> ListAsync(
        IngestSessions sessions, CancellationToken cancellationToken, int limit = 50)
    {
        if (limit is < 1 or > 1000)
        {
            return Problems.Invalid("limit", "must be between 1 and 1000");
        }

        return TypedResults.Ok(await sessions.ListAsync(limit, cancellationToken));
    }

    private static async Task<Results<Ok<DirectoryListing>, ValidationProblem>> DirectoriesAsync(
        MediaRoot root, IMediaCatalog catalog, CancellationToken cancellationToken, string? path = null)
    {
        if (!root.TryResolve(path, out var full, out var reason))
        {
            return Problems.Invalid("path", $"'{path}' {reason}");
        }

        if (!Directory.Exists(full))
        {
            return Problems.Invalid("path", $"'{path}' does not exist or is not a folder");
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
            c.Relative,
            SafeList(() => new DirectoryInfo(c.Full).EnumerateDirectories()).Any(d => !d.Name.StartsWith('.')),
            SafeList(() => new DirectoryInfo(c.Full).EnumerateFiles()).Count(f => media.IsMatch(f.Name)),
            ingested.GetValueOrDefault(c.Relative))).ToList();

        var here = SafeList(() => new DirectoryInfo(full).EnumerateFiles()).Where(f => media.IsMatch(f.Name)).ToList();
        var byExtension = here.GroupBy(f => f.Extension.ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count());
        var parent = relative.Length == 0 ? null : (Path.GetDirectoryName(relative)?.Replace('\\', '/') ?? "");
        return TypedResults.Ok(new DirectoryListing(relative, parent, entries, new FileSummary(here.Count, ingested.GetValueOrDefault(relative), byExtension)));
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

        html.Append("</p><p>Started ").Append(e.Encode(s.StartTime.ToString("u"))).Append(s.EndTime is { } end ? ", ended " + e.Encode(end.ToString("u")) : "").Append(".</p>");
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
