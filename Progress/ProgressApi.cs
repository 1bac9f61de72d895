using IngestLite.Api;
using IngestLite.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace IngestLite.Progress;

/// <summary>The read side of progress: the polling endpoint and the event streams.</summary>
public static partial class ProgressApi
{
    public static IEndpointRouteBuilder MapProgressApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/ingest").WithTags("Progress");
        group.MapGet("/status/{sessionId}", StatusAsync);
        return routes;
    }

    private static async Task<Results<Ok<ProgressSnapshot>, NotFound<ProblemDetails>>> StatusAsync(
        string sessionId, IngestSessions sessions, CancellationToken cancellationToken) =>
        await sessions.FindAsync(sessionId, cancellationToken) is { } snapshot ? TypedResults.Ok(snapshot) : IngestApi.UnknownSession(sessionId);
}
