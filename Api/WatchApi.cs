using IngestLite.Http;
using IngestLite.Jobs;
using IngestLite.Jobs.Watching;
using Microsoft.AspNetCore.Mvc;

namespace IngestLite.Api;

/// <summary>
/// Watched folders: <c>POST /api/watch</c> with an ingest's options (<c>directory</c>, <c>pattern</c>, <c>recursive</c>,
/// <c>extract_metadata</c>…) starts one and answers its id and its session's; <c>GET</c> lists them with their
/// sessions' state; <c>DELETE /api/watch/{id}</c> stops one. A watch's session streams as any session does.
/// </summary>
public static class WatchApi
{
    public static IEndpointRouteBuilder MapWatchApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/watch").WithTags("Watch");
        group.MapPost("", CreateAsync).WithMetadata(new RequestSizeLimitAttribute(IngestApi.MaxBodyBytes));
        group.MapGet("", async (WatchService watches, CancellationToken cancellationToken) => TypedResults.Ok(await watches.ListAsync(cancellationToken)));
        group.MapDelete("/{watchId}", async Task<IResult> (string watchId, WatchService watches, CancellationToken cancellationToken) =>
            await watches.DeleteAsync(watchId, cancellationToken)
                ? TypedResults.Ok(new { status = "deleted", watch_id = watchId })
                : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such watch.", detail: $"watch_id: no watch '{watchId}'"));
        return routes;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, WatchService watches, CancellationToken cancellationToken)
    {
        var (body, problem) = await IngestApi.ReadJsonAsync<IngestParameters>(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var (watch, error) = await watches.CreateAsync(body ?? new IngestParameters(), cancellationToken);
        return error is not null
            ? Problems.Invalid(error.Field == "directory_watched" ? "directory" : error.Field, error.Reason)
            : TypedResults.Created($"/api/watch/{watch!.WatchId}", watch);
    }
}
