using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Png;
using MetadataExtractor.Formats.QuickTime;

namespace IngestLite.Jobs.Stages;

/// <summary>Generation settings from an A1111 <c>parameters</c> chunk.</summary>
public sealed record GenerationParameters(
    string? Prompt,
    string? NegativePrompt,
    int? Steps,
    string? Sampler,
    double? CfgScale,
    long? Seed,
    string? Model);

/// <summary>What the metadata stage learned about one file.</summary>
public sealed record MediaMetadata(
    int? Width,
    int? Height,
    DateTimeOffset? TakenAt,
    double? DurationSeconds,
    GenerationParameters? Generation,
    string? ComfyPrompt,
    string? ComfyWorkflow)
{
    /// <summary>The positive prompt, from A1111 parameters or the text inputs of a ComfyUI prompt graph.</summary>
    public string? PositivePrompt => Generation?.Prompt ?? ComfyPositivePrompt(ComfyPrompt);

    private static string? ComfyPositivePrompt(string? promptJson)
    {
        if (promptJson is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(promptJson);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            // The first CLIPTextEncode-like node with a "text" input is, by convention, the positive prompt.
            foreach (var node in document.RootElement.EnumerateObject())
            {
                if (node.Value.ValueKind == JsonValueKind.Object &&
                    node.Value.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Object &&
                    inputs.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    return text.GetString();
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }
}

/// <summary>Reads dimensions, dates, durations and AI-generation text through MetadataExtractor.</summary>
public static partial class MediaMetadataReader
{
    /// <summary>PNG text chunks above this size are ignored rather than parsed.</summary>
    public const int MaxTextChunkChars = 1024 * 1024;

    public static MediaMetadata Read(string fullPath)
    {
        using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
        return Read(stream);
    }

    public static MediaMetadata Read(Stream stream)
    {
        var directories = ImageMetadataReader.ReadMetadata(stream);

        var errors = directories.SelectMany(d => d.Errors).ToList();
        int? width = null, height = null;
        DateTimeOffset? takenAt = null;
        double? duration = null;
        string? parameters = null, comfyPrompt = null, comfyWorkflow = null;

        foreach (var directory in directories)
        {
            switch (directory)
            {
                case PngDirectory png when png.Name == "PNG-IHDR":
                    width ??= TryInt(png, PngDirectory.TagImageWidth);
                    height ??= TryInt(png, PngDirectory.TagImageHeight);
                    break;
                case PngDirectory png when png.GetObject(PngDirectory.TagTextualData) is IList<MetadataExtractor.KeyValuePair> pairs:
                    foreach (var pair in pairs)
                    {
                        // tEXt and zTXt are Latin-1 by the PNG spec (and as PIL writes them); iTXt is UTF-8.
                        var text = pair.Value.ToString(png.Name == "PNG-iTXt" ? System.Text.Encoding.UTF8 : System.Text.Encoding.Latin1);
                        if (text.Length > MaxTextChunkChars)
                        {
                            continue;
                        }

                        switch (pair.Key)
                        {
                            case "parameters":
                                parameters ??= text;
                                break;
                            case "prompt":
                                comfyPrompt ??= text;
                                break;
                            case "workflow":
                                comfyWorkflow ??= text;
                                break;
                        }
                    }

                    break;
                case JpegDirectory jpeg:
                    width ??= TryInt(jpeg, JpegDirectory.TagImageWidth);
                    height ??= TryInt(jpeg, JpegDirectory.TagImageHeight);
                    break;
                case ExifSubIfdDirectory exif:
                    if (exif.TryGetDateTime(ExifDirectoryBase.TagDateTimeOriginal, out var original))
                    {
                        takenAt ??= new DateTimeOffset(DateTime.SpecifyKind(original, DateTimeKind.Utc));
                    }

                    width ??= TryInt(exif, ExifDirectoryBase.TagExifImageWidth);
                    height ??= TryInt(exif, ExifDirectoryBase.TagExifImageHeight);
                    break;
                case QuickTimeMovieHeaderDirectory movie:
                    duration ??= Duration(movie);
                    break;
                case QuickTimeTrackHeaderDirectory track:
                    var w = TryDouble(track, QuickTimeTrackHeaderDirectory.TagWidth);
                    var h = TryDouble(track, QuickTimeTrackHeaderDirectory.TagHeight);
                    if (w > 0 && h > 0)
                    {
                        width ??= (int)w;
                        height ??= (int)h;
                    }

                    break;
            }
        }

        if (width is null && height is null && duration is null && parameters is null && comfyPrompt is null && errors.Count > 0)
        {
            throw new InvalidDataException(errors[0]);
        }

        return new MediaMetadata(width, height, takenAt, duration, ParseParameters(parameters), comfyPrompt, comfyWorkflow);
    }

    /// <summary>
    /// Parses A1111's layout: prompt lines, an optional "Negative prompt:" block, then one
    /// "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Model: x" settings line.
    /// </summary>
    public static GenerationParameters? ParseParameters(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var lines = text.Replace("\r\n", "\n").Split('\n');
        var settingsIndex = Array.FindLastIndex(lines, l => l.TrimStart().StartsWith("Steps:", StringComparison.Ordinal));
        var body = settingsIndex >= 0 ? lines[..settingsIndex] : lines;
        var settings = settingsIndex >= 0 ? SettingsParts(string.Join(' ', lines[settingsIndex..])) : [];

        var negativeIndex = Array.FindIndex(body, l => l.StartsWith("Negative prompt:", StringComparison.Ordinal));
        var prompt = string.Join('\n', negativeIndex >= 0 ? body[..negativeIndex] : body).Trim();
        string? negative = null;
        if (negativeIndex >= 0)
        {
            negative = string.Join('\n', body[negativeIndex..]).Substring("Negative prompt:".Length).Trim();
        }

        return new GenerationParameters(
            prompt.Length > 0 ? prompt : null,
            string.IsNullOrEmpty(negative) ? null : negative,
            settings.TryGetValue("Steps", out var steps) && int.TryParse(steps, CultureInfo.InvariantCulture, out var s) ? s : null,
            settings.GetValueOrDefault("Sampler"),
            settings.TryGetValue("CFG scale", out var cfg) && double.TryParse(cfg, CultureInfo.InvariantCulture, out var c) ? c : null,
            settings.TryGetValue("Seed", out var seed) && long.TryParse(seed, CultureInfo.InvariantCulture, out var sd) ? sd : null,
            settings.GetValueOrDefault("Model"));
    }

    private static Dictionary<string, string> SettingsParts(string line)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in SettingPair().Matches(line))
        {
            result.TryAdd(match.Groups["key"].Value.Trim(), match.Groups["value"].Value.Trim().Trim('"'));
        }

        return result;
    }

    private static double? Duration(QuickTimeMovieHeaderDirectory movie)
    {
        var value = movie.GetObject(QuickTimeMovieHeaderDirectory.TagDuration);
        return value switch
        {
            TimeSpan span => span.TotalSeconds,
            null => null,
            _ when movie.TryGetDouble(QuickTimeMovieHeaderDirectory.TagDuration, out var raw) &&
                   movie.TryGetDouble(QuickTimeMovieHeaderDirectory.TagTimeScale, out var scale) && scale > 0 => raw / scale,
            _ => null,
        };
    }

    private static int? TryInt(MetadataExtractor.Directory directory, int tag) =>
        directory.TryGetInt32(tag, out var value) ? value : null;

    private static double TryDouble(MetadataExtractor.Directory directory, int tag) =>
        directory.TryGetDouble(tag, out var value) ? value : 0;

    [GeneratedRegex("""(?<key>[A-Za-z][A-Za-z0-9 _\-]*):\s*(?<value>"[^"]*"|[^,]*)""", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex SettingPair();
}
