using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IngestLite.Progress;

/// <summary>
/// The wire format of progress, in one place (its browser twin is wwwroot/js/wire.js, and a test checks
/// both agree): the one JSON shape of the API (snake_case names, what the replaced app's clients read, and
/// UTC timestamps with milliseconds), the streams' event names and ids, and the events' payloads. The
/// snapshot's fields are <see cref="ProgressSnapshot"/>'s; which statuses are final, <see cref="SessionStatusExtensions"/>.
/// </summary>
public static class ProgressWire
{
    /// <summary>A snapshot of a session that still runs, on the multiplexed stream (a session's own stream names none).</summary>
    public const string ProgressEvent = "progress";

    /// <summary>A session's final snapshot, on the multiplexed stream.</summary>
    public const string DoneEvent = "done";

    /// <summary>
    /// Sent by an idle stream so that dead peers are noticed; its data is <c>{}</c>. Named on both streams,
    /// so a session stream's <c>onmessage</c> never hears it.
    /// </summary>
    public const string HeartbeatEvent = "heartbeat";

    /// <summary>A deleted session, on the multiplexed stream; its data is <see cref="RemovedPayload"/>.</summary>
    public const string RemovedEvent = "removed";

    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    private static readonly byte[] EmptyObject = "{}"u8.ToArray();

    /// <summary>The data of a <see cref="RemovedEvent"/>.</summary>
    public sealed record RemovedPayload(string SessionId);

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


    /// <summary>
    /// A snapshot on the multiplexed stream: <see cref="DoneEvent"/> when final, else <see cref="ProgressEvent"/>;
    /// its id is the registry version <paramref name="version"/>.
    /// </summary>
    public static SseItem<byte[]> Snapshot(ProgressUpdate update, TimeSpan? retry, long version) =>
        new(update.Json, update.Snapshot.Status.IsTerminal() ? DoneEvent : ProgressEvent)
        {
            EventId = version.ToString(CultureInfo.InvariantCulture),
            ReconnectionInterval = retry,
        };

    /// <summary>
    /// A snapshot on a session's own stream, in the dialect of the replaced app's proposal: unnamed (no
    /// <c>event:</c> line, so <c>onmessage</c> hears it), its id the session's seq. The final one is the last event.
    /// </summary>
    public static SseItem<byte[]> SessionSnapshot(ProgressUpdate update, TimeSpan? retry) =>
        new(update.Json)
        {
            EventId = update.SeqText,
            ReconnectionInterval = retry,
        };

    /// <summary>
    /// A heartbeat: <c>{}</c>, or <c>{"stale": reason}</c> while the server cannot keep its sessions fresh (a node cut off
    /// from the shared database): the stream stays open, and what changed meanwhile follows once it is back.
    /// </summary>
    public static SseItem<byte[]> Heartbeat(TimeSpan? retry, string? stale = null) =>
        new(stale is null ? EmptyObject : JsonSerializer.SerializeToUtf8Bytes(new StalePayload(stale), Options), HeartbeatEvent) { ReconnectionInterval = retry };

    /// <summary>The data of a heartbeat while the sessions shown may be stale.</summary>
    public sealed record StalePayload(string Stale);

    public static SseItem<byte[]> Removed(string sessionId, long version) =>
        new(JsonSerializer.SerializeToUtf8Bytes(new RemovedPayload(sessionId), Options), RemovedEvent)
        {
            EventId = version.ToString(CultureInfo.InvariantCulture),
        };

    /// <summary>
    /// Whether a received event is a session's final snapshot: <see cref="DoneEvent"/> on the multiplexed stream, an
    /// unnamed snapshot with a final status on a session's own. For clients of the streams (the tests, the bench).
    /// </summary>
    public static bool IsFinalSnapshot(string eventType, ReadOnlySpan<byte> data)
    {
        if (eventType == DoneEvent)
        {
            return true;
        }

        if (eventType != SseParser.EventTypeDefault)
        {
            return false;
        }

        var reader = new Utf8JsonReader(data);
        var depth = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    depth++;
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    depth--;
                    break;
                case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("status"u8):
                    reader.Read();
                    var status = reader.GetString();
                    return Enum.GetValues<SessionStatus>().Any(s => s.IsTerminal() && s.ToWire() == status);
            }
        }

        return false;
    }

    /// <summary>The seq or version a client resumes after; -1 when it sent none (or something that is not one).</summary>
    public static long ParseEventId(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;

    private sealed class UtcMillisecondsConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}
