using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IngestLite.Progress;

/// <summary>
/// The one JSON shape of the API: snake_case names (what the replaced app's clients read) and
/// UTC timestamps with milliseconds. HTTP endpoints and the stream's cached payloads both use it.
/// </summary>
public static class ProgressJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowTrailingCommas = false;
        options.Converters.Add(new UtcMillisecondsConverter());
        return options;
    }

    public static byte[] Serialize(ProgressSnapshot snapshot) => JsonSerializer.SerializeToUtf8Bytes(snapshot, Options);

    public static string ToText(ProgressSnapshot snapshot) => JsonSerializer.Serialize(snapshot, Options);

    public static ProgressSnapshot FromText(string json) =>
        JsonSerializer.Deserialize<ProgressSnapshot>(json, Options) ?? throw new JsonException("a stored snapshot is null");

    private sealed class UtcMillisecondsConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}
