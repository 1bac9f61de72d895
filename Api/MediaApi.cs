using IngestLite.Catalog;
using IngestLite.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IngestLite.Api;

/// <summary>Catalog search: by keyword, prompt text or file name.</summary>
public static class MediaApi
{
    public sealed record MediaSearch(string Query, int Count, IReadOnlyList<MediaHit> Items);

    public static IEndpointRouteBuilder MapMediaApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/media", SearchAsync).WithTags("Catalog");
        return routes;
    }

    private static async Task<Results<Ok<MediaSearch>, ValidationProblem>> SearchAsync(
        IMediaCatalog catalog, CancellationToken cancellationToken, string? q = null, int limit = 100)
    {
        if (limit is < 1 or > 1000)
        {
            return Problems.Invalid("limit", "must be between 1 and 1000");
        }

        if (q is { Length: > 500 })
        {
            return Problems.Invalid("q", "must be at most 500 characters");
        }

        var items = await catalog.SearchAsync(q, limit, cancellationToken);
        return TypedResults.Ok(new MediaSearch(q ?? "", items.Count, items));
    }
}
