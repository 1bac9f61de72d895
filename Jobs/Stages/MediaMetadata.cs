using IngestLite.Jobs.Stages.Generation;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Png;
using MetadataExtractor.Formats.QuickTime;

namespace IngestLite.Jobs.Stages;

/// <summary>What the metadata stage learned about one file.</summary>
/// <param name="Generation">The generation settings, whichever tool wrote them; null when the file carries none.</param>
/// <param name="ComfyPrompt">The raw ComfyUI <c>prompt</c> chunk (API graph), kept as the catalog stores it.</param>
/// <param name="ComfyWorkflow">The raw ComfyUI <c>workflow</c> chunk (UI graph).</param>
/// <param name="TextChunks">Every PNG text chunk under 1 MiB, keyword to text (first of a keyword wins), for a later re-parse.</param>
/// <param name="ExifUserComment">The decoded EXIF UserComment (JPEG, WebP, PNG eXIf), where A1111 writes outside PNG.</param>
public sealed record MediaMetadata(
    int? Width,
    int? Height,
    DateTimeOffset? TakenAt,
    double? DurationSeconds,
    GenerationInfo? Generation,
    string? ComfyPrompt,
    string? ComfyWorkflow,
    IReadOnlyDictionary<string, string>? TextChunks = null,
    string? ExifUserComment = null)
{
    /// <summary>The positive prompt, as the generation parser read it.</summary>
    public string? PositivePrompt => Generation?.Prompt;
}

/// <summary>Reads dimensions, dates, durations and AI-generation text through MetadataExtractor.</summary>
public static class MediaMetadataReader
{
    /// <summary>PNG text chunks above this size are ignored rather than parsed.</summary>
    public const int MaxTextChunkChars = GenerationParser.MaxTextChars;

    /// <summary>A UTF-16 UserComment of <see cref="MaxTextChunkChars"/> characters, plus its 8-byte header.</summary>
    private const int MaxUserCommentBytes = (2 * MaxTextChunkChars) + 8;

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
        var textChunks = new Dictionary<string, string>(StringComparer.Ordinal);
        string? userComment = null;

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

                        textChunks.TryAdd(pair.Key, text);
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
                    if (userComment is null && exif.GetByteArray(ExifDirectoryBase.TagUserComment) is { Length: > 0 and <= MaxUserCommentBytes } comment)
                    {
                        userComment = ExifUserComment.Decode(comment);
                    }

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

        if (width is null && height is null && duration is null && textChunks.Count == 0 && userComment is null && errors.Count > 0)
        {
            throw new InvalidDataException(errors[0]);
        }

        var generation = GenerationParser.Parse(textChunks, userComment);
        return new MediaMetadata(
            width, height, takenAt, duration, generation, textChunks.GetValueOrDefault("prompt"), textChunks.GetValueOrDefault("workflow"), textChunks, userComment);
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
}
