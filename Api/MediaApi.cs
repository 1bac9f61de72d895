using System.Globalization;
using IngestLite.Catalog;
using IngestLite.Http;
using Hangfire;
using IngestLite.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IngestLite.Api;

/// <summary>
/// Catalog search: full-text over prompts, path and keywords (FTS5: words, "phrases", prefix*), filters on the
/// generation fields, ranges, kind, date and folder, three sorts; and the facets under the same filters.
/// </summary>
public static class MediaApi
{
    private const int MaxListValues = 50;

    public sealed record MediaSearch(string Query, int Count, IReadOnlyList<MediaHit> Items);

    public sealed record ReparseQueued(string JobId, string Status = "queued");

    public sealed record SimilarHit(int Distance, MediaHit Media);

    public sealed record Similar(long Id, int Distance, IReadOnlyList<SimilarHit> Items);

    public sealed record DuplicateGroup(int Count, IReadOnlyList<MediaHit> Items);

    public sealed record Duplicates(int Distance, int Groups, IReadOnlyList<DuplicateGroup> Items);

    public static IEndpointRouteBuilder MapMediaApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/media").WithTags("Catalog");
        group.MapGet("", SearchAsync);
        group.MapGet("/facets", FacetsAsync);
        group.MapGet("/{id:long}/thumbnail", ThumbnailAsync);
        group.MapGet("/{id:long}/similar", SimilarAsync);
        group.MapGet("/duplicates", DuplicatesAsync);

        // After a parser upgrade: re-read every catalogued file's metadata (no hashing), as a Hangfire job.
        group.MapPost("/reparse", (IBackgroundJobClient jobs) =>
            TypedResults.Accepted((string?)null, new ReparseQueued(jobs.Enqueue<ReparseJob>(job => job.RunAsync(CancellationToken.None)))));
        return routes;
    }

    /// <summary>An image's near-duplicates (perceptual hashes within <c>distance</c> bits), nearest first.</summary>
    private static async Task<IResult> SimilarAsync(long id, HttpRequest request, IMediaCatalog catalog, PerceptualIndex index,
        Microsoft.Extensions.Options.IOptions<IngestOptions> options, CancellationToken cancellationToken)
    {
        if (!TryInt(request.Query, "distance", 0, 32, options.Value.NearDuplicateDistance, out var distance, out var problem) ||
            !TryInt(request.Query, "limit", 1, 1000, 50, out var limit, out problem))
        {
            return problem!;
        }

        if (index.HashOf(id) is not { } hash)
        {
            return await catalog.GetMediaAsync(id, cancellationToken) is null
                ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown media.", detail: $"id: no catalogued file {id}")
                : TypedResults.Ok(new Similar(id, distance, []));
        }

        var near = index.Near(hash, distance, limit, except: id);
        var hits = (await catalog.SearchAsync(new MediaFilter { Ids = [.. near.Select(n => n.Id)] }, MediaSort.Date, limit, 0, cancellationToken)).ToDictionary(h => h.Id);
        return TypedResults.Ok(new Similar(id, distance, [.. near.Where(n => hits.ContainsKey(n.Id)).Select(n => new SimilarHit(n.Distance, hits[n.Id]))]));
    }

    /// <summary>Groups of near-duplicate images, largest first.</summary>
    private static async Task<IResult> DuplicatesAsync(HttpRequest request, IMediaCatalog catalog, PerceptualIndex index,
        Microsoft.Extensions.Options.IOptions<IngestOptions> options, CancellationToken cancellationToken)
    {
        if (!TryInt(request.Query, "distance", 0, 32, options.Value.NearDuplicateDistance, out var distance, out var problem) ||
            !TryInt(request.Query, "limit", 1, 500, 50, out var limit, out problem))
        {
            return problem!;
        }

        var groups = await Task.Run(() => index.Groups(distance), cancellationToken);
        var shown = groups.Take(limit).ToList();
        var hits = (await catalog.SearchAsync(new MediaFilter { Ids = [.. shown.SelectMany(g => g)] }, MediaSort.Name, 100_000, 0, cancellationToken)).ToDictionary(h => h.Id);
        return TypedResults.Ok(new Duplicates(distance, groups.Count,
            [.. shown.Select(g => new DuplicateGroup(g.Count, [.. g.Where(hits.ContainsKey).Select(id => hits[id])]))]));
    }

    /// <summary>What a video shows until a frame can be decoded (no video decoder is a dependency here).</summary>
    private const string VideoPlaceholder = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 180" width="320" height="180"><rect width="320" height="180" fill="#20242c"/><path d="M138 62v56l48-28z" fill="#c8ccd4"/></svg>
        """;

    /// <summary>
    /// A catalogued file's thumbnail: a WebP made during ingest, or now for files catalogued before (one per
    /// content). Asked for with its content version (<c>?v=</c>, as search results link it) it is immutable;
    /// the strong ETag is the content's hash either way.
    /// </summary>
    private static async Task<IResult> ThumbnailAsync(long id, HttpContext context, IMediaCatalog catalog, ThumbnailStore thumbnails, CancellationToken cancellationToken, string? v = null)
    {
        if (await catalog.GetMediaAsync(id, cancellationToken) is not { } media)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown media.", detail: $"id: no catalogued file {id}");
        }

        var headers = context.Response.Headers;
        var current = v is not null && media.Sha256.StartsWith(v, StringComparison.Ordinal) && v.Length >= 8;
        headers.CacheControl = current ? "public, max-age=31536000, immutable" : "no-cache";
        var tag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + media.Sha256 + "\"");
        if (media.Kind == "video")
        {
            return TypedResults.Text(VideoPlaceholder, "image/svg+xml");
        }

        var path = await Task.Run(() => thumbnails.GetOrMake(media.Path, media.Sha256), cancellationToken);
        return path is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No thumbnail.", detail: "id: the file is gone or is not a decodable image")
            : TypedResults.PhysicalFile(path, "image/webp", entityTag: tag);
    }

    private static async Task<Results<Ok<MediaSearch>, ValidationProblem>> SearchAsync(HttpRequest request, IMediaCatalog catalog, CancellationToken cancellationToken)
    {
        var (filter, problem) = ReadFilter(request.Query);
        if (problem is not null)
        {
            return problem;
        }

        if (!TryInt(request.Query, "limit", 1, 1000, 100, out var limit, out problem) || !TryInt(request.Query, "offset", 0, 1_000_000, 0, out var offset, out problem))
        {
            return problem!;
        }

        var sort = request.Query["sort"].ToString() switch
        {
            "" or "date" => (MediaSort?)MediaSort.Date,
            "score" => MediaSort.Score,
            "name" => MediaSort.Name,
            _ => null,
        };
        if (sort is null)
        {
            return Problems.Invalid("sort", "must be date, score or name");
        }

        var items = await catalog.SearchAsync(filter!, sort.Value, limit, offset, cancellationToken);
        return TypedResults.Ok(new MediaSearch(filter!.Text ?? "", items.Count, items));
    }

    private static async Task<Results<Ok<MediaFacets>, ValidationProblem>> FacetsAsync(HttpRequest request, IMediaCatalog catalog, CancellationToken cancellationToken)
    {
        var (filter, problem) = ReadFilter(request.Query);
        if (problem is not null || !TryInt(request.Query, "top", 1, 100, 10, out var top, out problem))
        {
            return problem!;
        }

        return TypedResults.Ok(await catalog.FacetsAsync(filter!, top, cancellationToken));
    }

    /// <summary>The filter in a query string, or a 400 naming the first parameter that is wrong and why.</summary>
    private static (MediaFilter? Filter, ValidationProblem? Problem) ReadFilter(IQueryCollection query)
    {
        var text = query["q"].ToString();
        if (text.Length > 500)
        {
            return (null, Problems.Invalid("q", "must be at most 500 characters"));
        }

        var lists = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var name in new[] { "model", "sampler", "scheduler", "lora" })
        {
            var values = query[name].Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).ToList();
            if (values.Count > MaxListValues || values.Any(v => v.Length > 500))
            {
                return (null, Problems.Invalid(name, $"at most {MaxListValues} values of at most 500 characters"));
            }

            lists[name] = values;
        }

        var loraMode = query["lora_mode"].ToString();
        if (loraMode is not ("" or "any" or "all"))
        {
            return (null, Problems.Invalid("lora_mode", "must be any or all"));
        }

        var kind = query["kind"].ToString();
        if (kind is not ("" or "image" or "video"))
        {
            return (null, Problems.Invalid("kind", "must be image or video"));
        }

        var folder = query["folder"].ToString().Trim('/');
        if (folder.Split('/').Any(part => part == ".."))
        {
            return (null, Problems.Invalid("folder", "must not contain '..'"));
        }

        var problem = new FirstProblem();
        var filter = new MediaFilter
        {
            Text = string.IsNullOrWhiteSpace(text) ? null : text,
            Models = lists["model"],
            Samplers = lists["sampler"],
            Schedulers = lists["scheduler"],
            Loras = lists["lora"],
            AllLoras = loraMode == "all",
            Steps = Range<int>(query, "steps", int.TryParse, problem),
            Cfg = Range<double>(query, "cfg", double.TryParse, problem),
            Seed = Range<long>(query, "seed", long.TryParse, problem),
            Width = Range<int>(query, "width", int.TryParse, problem),
            Height = Range<int>(query, "height", int.TryParse, problem),
            Score = Range<double>(query, "score", double.TryParse, problem),
            Date = Range<DateTimeOffset>(query, "date", TryDate, problem),
            Kind = kind.Length == 0 ? null : kind,
            Folder = folder.Length == 0 ? null : folder,
        };
        return (problem.Value is null ? filter : null, problem.Value);
    }

    /// <summary>The first wrong parameter's problem: the one a client is told about.</summary>
    private sealed class FirstProblem
    {
        public ValidationProblem? Value { get; set; }
    }

    private delegate bool Parser<T>(string text, NumberStyles styles, IFormatProvider provider, out T value);

    private static bool TryDate(string text, NumberStyles styles, IFormatProvider provider, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, provider, DateTimeStyles.AssumeUniversal, out value);

    /// <summary>A range from <c>{name}_min</c> and <c>{name}_max</c> (or an exact <c>{name}</c>); the first bad one is kept in <paramref name="problem"/>.</summary>
    private static Range<T> Range<T>(IQueryCollection query, string name, Parser<T> parse, FirstProblem problem)
        where T : struct, IComparable<T>
    {
        T? Read(string key)
        {
            var text = query[key].ToString();
            if (text.Length == 0)
            {
                return null;
            }

            var styles = typeof(T) == typeof(double) ? NumberStyles.Float : NumberStyles.Integer;
            if (parse(text, styles, CultureInfo.InvariantCulture, out var value) && (value is not double d || double.IsFinite(d)))
            {
                return value;
            }

            problem.Value ??= Problems.Invalid(key, $"'{text}' is not a valid {(typeof(T) == typeof(DateTimeOffset) ? "date" : "number")}");
            return null;
        }

        var exact = Read(name);
        var range = exact is { } value ? new Range<T>(value, value) : new Range<T>(Read(name + "_min"), Read(name + "_max"));
        if (range is { Min: { } min, Max: { } max } && min.CompareTo(max) > 0)
        {
            problem.Value ??= Problems.Invalid(name + "_min", $"must not be above {name}_max");
        }

        return range;
    }

    private static bool TryInt(IQueryCollection query, string name, int min, int max, int fallback, out int value, out ValidationProblem? problem)
    {
        problem = null;
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            value = fallback;
            return true;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            return true;
        }

        problem = Problems.Invalid(name, $"must be between {min} and {max}");
        return false;
    }
}
