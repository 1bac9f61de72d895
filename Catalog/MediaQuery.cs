using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;

namespace IngestLite.Catalog;

/// <summary>How search results are ordered: file date (newest first), score (highest first), or name (A to Z).</summary>
public enum MediaSort
{
    Date,
    Score,
    Name,
}

/// <summary>An inclusive range; either end may be open.</summary>
public readonly record struct Range<T>(T? Min, T? Max)
    where T : struct;

/// <summary>
/// What the catalog is filtered by: full-text (<see cref="Text"/>, over prompts, path and keywords), exact values
/// of the generation fields, LoRAs (any or all of them), ranges, kind, file date and folder (with sub-folders).
/// </summary>
public sealed record MediaFilter
{
    public string? Text { get; init; }

    public IReadOnlyList<string> Models { get; init; } = [];

    public IReadOnlyList<string> Samplers { get; init; } = [];

    public IReadOnlyList<string> Schedulers { get; init; } = [];

    public IReadOnlyList<string> Loras { get; init; } = [];

    /// <summary>True: a file must use every LoRA in <see cref="Loras"/>; false: any of them.</summary>
    public bool AllLoras { get; init; }

    public Range<int> Steps { get; init; }

    public Range<double> Cfg { get; init; }

    public Range<long> Seed { get; init; }

    public Range<int> Width { get; init; }

    public Range<int> Height { get; init; }

    public Range<double> Score { get; init; }

    public string? Kind { get; init; }

    /// <summary>The file's modification time (a generator's output time), as a range.</summary>
    public Range<DateTimeOffset> Date { get; init; }

    /// <summary>A folder in the media root: files in it and in its sub-folders.</summary>
    public string? Folder { get; init; }

    /// <summary>Only these files (by catalog id); null for no such limit.</summary>
    public IReadOnlyList<long>? Ids { get; init; }

    /// <summary>True when nothing but (maybe) text filters: every value, range, kind, folder and id list is open.</summary>
    public bool OnlyText =>
        Models.Count == 0 && Samplers.Count == 0 && Schedulers.Count == 0 && Loras.Count == 0 &&
        Steps == default && Cfg == default && Seed == default && Width == default && Height == default && Score == default && Date == default &&
        Kind is null && Folder is null && Ids is null;

    /// <summary>True when it filters nothing.</summary>
    public bool IsEmpty => OnlyText && string.IsNullOrWhiteSpace(Text);
}

/// <summary>One value of a facet and how many filtered files have it.</summary>
public sealed record FacetValue(string Value, int Count);

/// <summary>The top values of each facet under the current filters.</summary>
public sealed record MediaFacets(
    IReadOnlyList<FacetValue> Model,
    IReadOnlyList<FacetValue> Sampler,
    IReadOnlyList<FacetValue> Scheduler,
    IReadOnlyList<FacetValue> Lora,
    IReadOnlyList<FacetValue> Size);

/// <summary>Turns a <see cref="MediaFilter"/> into SQL over <c>media m</c>, every value a parameter.</summary>
internal static class MediaFilterSql
{
    /// <summary>The WHERE clause (or "1 = 1") for <paramref name="filter"/>, its parameters added to <paramref name="command"/>.</summary>
    public static string Where(MediaFilter filter, DbCommand command, CatalogDialect dialect)
    {
        var clauses = new List<string>();
        var n = 0;
        string Param(object value)
        {
            var name = "@f" + (n++).ToString(CultureInfo.InvariantCulture);
            command.Set(name, value);
            return name;
        }

        if (dialect.TextQuery(filter.Text) is { } match)
        {
            clauses.Add($"m.id IN ({dialect.TextMatches(Param(match))})");
        }

        In("m.model", filter.Models);
        In("m.sampler", filter.Samplers);
        In("m.scheduler", filter.Schedulers);
        if (filter.Loras.Count > 0)
        {
            var names = string.Join(", ", filter.Loras.Select(l => Param(l)));
            clauses.Add(filter.AllLoras
                ? $"(SELECT COUNT(*) FROM media_loras l WHERE l.media_id = m.id AND l.name IN ({names})) = {filter.Loras.Distinct(StringComparer.Ordinal).Count()}"
                : $"m.id IN (SELECT media_id FROM media_loras WHERE name IN ({names}))");
        }

        Between("m.steps", filter.Steps.Min, filter.Steps.Max);
        Between("m.cfg_scale", filter.Cfg.Min, filter.Cfg.Max);
        Between("m.seed", filter.Seed.Min, filter.Seed.Max);
        Between("m.width", filter.Width.Min, filter.Width.Max);
        Between("m.height", filter.Height.Min, filter.Height.Max);
        Between("m.score", filter.Score.Min, filter.Score.Max);
        Between("m.mtime", filter.Date.Min?.ToUnixTimeMilliseconds(), filter.Date.Max?.ToUnixTimeMilliseconds());
        if (filter.Kind is { } kind)
        {
            clauses.Add($"m.kind = {Param(kind)}");
        }

        if (filter.Ids is { } ids)
        {
            clauses.Add(ids.Count == 0 ? "1 = 0" : $"m.id IN ({string.Join(", ", ids.Select(id => id.ToString(CultureInfo.InvariantCulture)))})");
        }

        if (filter.Folder is { Length: > 0 } folder)
        {
            clauses.Add($"(m.dir = {Param(folder)} OR m.dir {dialect.Like} {Param(Sql.EscapeLike(folder) + "/%")} ESCAPE '\\')");
        }

        return clauses.Count == 0 ? "1 = 1" : string.Join(" AND ", clauses);

        void In(string column, IReadOnlyList<string> values)
        {
            if (values.Count > 0)
            {
                clauses.Add($"{column} IN ({string.Join(", ", values.Select(v => Param(v)))})");
            }
        }

        void Between<T>(string column, T? min, T? max)
            where T : struct
        {
            if (min is { } low)
            {
                clauses.Add($"{column} >= {Param(low)}");
            }

            if (max is { } high)
            {
                clauses.Add($"{column} <= {Param(high)}");
            }
        }
    }

    public static string OrderBy(MediaSort sort) => sort switch
    {
        MediaSort.Score => "m.score DESC NULLS LAST, m.id DESC",
        MediaSort.Name => "m.name, m.id",
        _ => "m.mtime DESC, m.id DESC",
    };
}

/// <summary>
/// A person's search text as a query that cannot be malformed: words and "quoted phrases", all required; a trailing
/// <c>*</c> makes a word a prefix. <see cref="From"/> writes it for FTS5, each term quoted (so its operators and
/// punctuation are plain text); PostgreSQL's tsquery is written from the same <see cref="Terms"/>.
/// </summary>
public static class FtsQuery
{
    public const int MaxTerms = 32;

    /// <summary>The FTS5 query; null when there is nothing to search for.</summary>
    public static string? From(string? text)
    {
        var terms = Terms(text);
        return terms.Count == 0 ? null : string.Join(' ', terms.Select(t =>
            new StringBuilder("\"").Append(t.Text.Replace("\"", "\"\"")).Append('"').Append(t.Prefix ? "*" : "").ToString()));
    }

    /// <summary>The words and phrases of a search text (at most <see cref="MaxTerms"/>), each with whether it ends in <c>*</c>.</summary>
    public static List<(string Text, bool Prefix)> Terms(string? text)
    {
        var terms = new List<(string Text, bool Prefix)>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return terms;
        }

        var i = 0;
        while (i < text.Length && terms.Count < MaxTerms)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            string term;
            if (text[i] == '"')
            {
                var end = text.IndexOf('"', i + 1);
                term = end < 0 ? text[(i + 1)..] : text[(i + 1)..end];
                i = end < 0 ? text.Length : end + 1;
            }
            else
            {
                var end = i;
                while (end < text.Length && !char.IsWhiteSpace(text[end]))
                {
                    end++;
                }

                term = text[i..end];
                i = end;
            }

            var prefix = term.EndsWith('*');
            term = term.TrimEnd('*');
            if (!term.Any(char.IsLetterOrDigit))
            {
                continue;
            }

            terms.Add((term, prefix));
        }

        return terms;
    }
}
