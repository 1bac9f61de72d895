using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace IngestLite.Catalog;

/// <summary>How the catalog's rows and values read and write, on either engine, shared by its stores.</summary>
internal static class Sql
{
    private const char ListSeparator = '\u001f';

    public const string MediaColumns = """
        m.path, m.size, m.mtime, m.kind, m.sha256, m.width, m.height, m.taken_at, m.duration_seconds, m.prompt, m.negative_prompt,
        m.steps, m.sampler, m.cfg_scale, m.seed, m.model, m.comfy_prompt, m.comfy_workflow, m.loras, m.score, m.phash, m.ingested_at, m.session_id
        """;

    public static MediaRecord ReadMedia(DbDataReader r) => new(
        r.GetString(0), r.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), r.GetString(3), r.GetString(4),
        NullableInt(r, 5), NullableInt(r, 6), NullableDate(r, 7), r.IsDBNull(8) ? null : r.GetDouble(8),
        NullableString(r, 9), NullableString(r, 10), NullableInt(r, 11), NullableString(r, 12),
        r.IsDBNull(13) ? null : r.GetDouble(13), r.IsDBNull(14) ? null : r.GetInt64(14), NullableString(r, 15),
        NullableString(r, 16), NullableString(r, 17), SplitList(r, 23),
        r.IsDBNull(18) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(18)),
        r.IsDBNull(19) ? null : r.GetDouble(19), r.IsDBNull(20) ? null : r.GetInt64(20), NullableDate(r, 21), NullableString(r, 22));

    public static SessionRecord ReadSession(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), NullableDate(r, 3) ?? DateTimeOffset.UnixEpoch, r.GetString(4), NullableString(r, 5));

    public static string? NullableString(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static int? NullableInt(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);

    public static DateTimeOffset? NullableDate(DbDataReader r, int i) =>
        r.IsDBNull(i) ? null : DateTimeOffset.Parse(r.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static List<string> SplitList(DbDataReader r, int i) =>
        r.IsDBNull(i) ? [] : [.. r.GetString(i).Split(ListSeparator, StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];

    /// <summary>An aggregate's integer (SQLite gives a long, PostgreSQL's sum a numeric).</summary>
    public static int Int(DbDataReader r, int i) => Convert.ToInt32(r.GetValue(i), CultureInfo.InvariantCulture);

    /// <summary>Adds a parameter with its value (null is NULL).</summary>
    public static DbParameter Set(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Adds a typed parameter whose value is set before each run (a statement run once per row).</summary>
    public static DbParameter Param(this DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }

    public static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string EscapeLike(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
