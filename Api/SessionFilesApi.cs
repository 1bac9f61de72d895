using System.Globalization;
using System.Text;
using IngestLite.Catalog;
using IngestLite.Http;
using IngestLite.Jobs;
using IngestLite.Progress;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IngestLite.Api;

/// <summary>What happened to every file of a session: paged JSON, CSV export, and retry of the failures.</summary>
public static class SessionFilesApi
{
    private const int MaxPage = 1000;

    public sealed record FilePage(string SessionId, IReadOnlyList<SessionFileResult> Items, string NextCursor, bool HasMore);

    public static IEndpointRouteBuilder MapSessionFilesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/ingest/session/{sessionId}").WithTags("Results");
        group.MapGet("/files", FilesAsync);
        group.MapGet("/files.csv", CsvAsync);
        group.MapPost("/retry-failed", RetryFailedAsync);
        return routes;
    }

    private static async Task<Results<Ok<FilePage>, ValidationProblem, ProblemHttpResult>> FilesAsync(
        string sessionId, IngestSessions sessions, ISessionStore catalog, CancellationToken cancellationToken,
        string? state = null, string? q = null, string? cursor = null, int limit = 100)
    {
        if (Validate(state, q, cursor, out var after) is { } invalid)
        {
            return invalid;
        }

        if (limit is < 1 or > MaxPage)
        {
            return Problems.Invalid("limit", $"must be between 1 and {MaxPage}");
        }

        if (await sessions.FindAsync(sessionId, cancellationToken) is null)
        {
            return Problems.UnknownSession(sessionId);
        }

        // One extra row tells whether another page follows.
        var rows = await catalog.QueryFileResultsAsync(sessionId, new FileResultFilter(state, q, after, limit + 1), cancellationToken).ToListAsync(cancellationToken);
        var items = rows.Take(limit).ToList();
        var next = items.Count > 0 ? items[^1].Seq : after;
        return TypedResults.Ok(new FilePage(sessionId, items, next.ToString(CultureInfo.InvariantCulture), rows.Count > limit));
    }

    private static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> CsvAsync(
        string sessionId, IngestSessions sessions, ISessionStore catalog, CancellationToken cancellationToken,
        string? state = null, string? q = null)
    {
        if (Validate(state, q, null, out _) is { } invalid)
        {
            return invalid;
        }

        if (await sessions.FindAsync(sessionId, cancellationToken) is null)
        {
            return Problems.UnknownSession(sessionId);
        }

        // Rows are written as they are read: 100,000 results never sit in memory at once.
        return TypedResults.Stream(
            async body =>
            {
                await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024);
                await writer.WriteAsync("seq,path,state,stage,reason,size,duration_ms\r\n");
                await foreach (var r in catalog.QueryFileResultsAsync(sessionId, new FileResultFilter(state, q, 0, null), cancellationToken))
                {
                    await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{r.Seq},{Csv(r.Path)},{r.State},{Csv(r.Stage)},{Csv(r.Reason)},{r.Size},{r.DurationMs}\r\n"));
                }
            },
            "text/csv; charset=utf-8",
            $"session-{sessionId}-files.csv");
    }

    private static async Task<Results<Ok<StartedSession>, ValidationProblem, ProblemHttpResult>> RetryFailedAsync(
        string sessionId, IngestSessions sessions, CancellationToken cancellationToken)
    {
        var session = await sessions.FindAsync(sessionId, cancellationToken);
        if (session is null)
        {
            return Problems.UnknownSession(sessionId);
        }

        if (!session.Status.IsTerminal())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The session is still running.",
                detail: "session_id: retry the failures once the session has ended");
        }

        var (started, error) = await sessions.RetryFailedAsync(sessionId, cancellationToken);
        return error is not null ? Problems.Invalid(error.Field, error.Reason) : TypedResults.Ok(started!);
    }

    private static ValidationProblem? Validate(string? state, string? q, string? cursor, out long after)
    {
        after = 0;
        if (state is not null && !FileStates.All.Contains(state))
        {
            return Problems.Invalid("state", $"must be one of {string.Join(", ", FileStates.All)}");
        }

        if (q is { Length: > 500 })
        {
            return Problems.Invalid("q", "must be at most 500 characters");
        }

        if (cursor is not null && (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
        {
            return Problems.Invalid("cursor", "must be a cursor returned by this endpoint (a non-negative integer)");
        }

        return null;
    }

    /// <summary>RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.</summary>
    private static string Csv(string? value) =>
        value is null ? "" : value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
