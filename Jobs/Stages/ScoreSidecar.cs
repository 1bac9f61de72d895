using System.Text.Json;

namespace IngestLite.Jobs.Stages;

/// <summary>Reads <c>.scores/&lt;file name&gt;.json</c> next to a media file: <c>{"score": n}</c>.</summary>
public static class ScoreSidecar
{
    private const long MaxSidecarBytes = 64 * 1024;

    public static string PathFor(string mediaFullPath) =>
        Path.Join(Path.GetDirectoryName(mediaFullPath), ".scores", Path.GetFileName(mediaFullPath) + ".json");

    /// <summary>
    /// The score, or null when there is no readable sidecar. A value outside -1..5 reads as 0.
    /// </summary>
    public static async Task<double?> ReadAsync(string mediaFullPath, CancellationToken cancellationToken)
    {
        var path = PathFor(mediaFullPath);
        var info = new FileInfo(path);

        // Length 0 covers FIFOs and devices (which would block or never end) as well as empty files.
        if (!info.Exists || info.Length == 0 || info.Length > MaxSidecarBytes)
        {
            return null;
        }

        try
        {
            var buffer = new byte[MaxSidecarBytes];
            int read;
            await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1))
            {
                read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            }

            using var document = JsonDocument.Parse(buffer.AsMemory(0, read));
            return Parse(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static double? Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("score", out var value))
        {
            return null;
        }

        double score;
        if (value.ValueKind == JsonValueKind.Number)
        {
            score = value.GetDouble();
        }
        else if (value.ValueKind == JsonValueKind.String &&
                 double.TryParse(value.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
        {
            score = parsed;
        }
        else
        {
            return null;
        }

        return double.IsFinite(score) && score is >= -1 and <= 5 ? score : 0;
    }
}
