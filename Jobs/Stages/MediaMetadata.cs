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
        var directories = ImageMetadataReader.ReadMetadata(PngWithoutPixels(stream) ?? stream);

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

    /// <summary>
    /// A PNG's chunks without its image data (IDAT, and APNG's fdAT), up to IEND or to where the file is cut short; null
    /// when the stream is not a seekable PNG (the reader then sees it whole). MetadataExtractor 2.4.3 reads every
    /// chunk's bytes into an array, wanted or not: for a 3 MB Stable Diffusion PNG that was 3 MB of garbage per file and
    /// ~10 ms, most of the cost of reading its metadata.
    /// </summary>
    private static MemoryStream? PngWithoutPixels(Stream stream)
    {
        if (!stream.CanSeek)
        {
            return null;
        }

        var start = stream.Position;
        var kept = new MemoryStream();
        Span<byte> header = stackalloc byte[8];
        if (stream.ReadAtLeast(header, 8, throwOnEndOfStream: false) != 8 || !header.SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            stream.Position = start;
            return null;
        }

        kept.Write(header);
        while (stream.ReadAtLeast(header, 8, throwOnEndOfStream: false) == 8)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header);
            var pixels = header[4..].SequenceEqual("IDAT"u8) || header[4..].SequenceEqual("fdAT"u8);
            if (length < 0 || stream.Position + length + 4 > stream.Length)
            {
                break;
            }

            if (pixels)
            {
                stream.Seek(length + 4, SeekOrigin.Current);
                continue;
            }

            kept.Write(header);
            var body = new byte[length + 4];
            stream.ReadExactly(body);
            kept.Write(body);
            if (header[4..].SequenceEqual("IEND"u8))
            {
                kept.Position = 0;
                return kept;
            }
        }

        // Cut short (an unfinished download or copy): what was read, closed with an IEND, so the header and the text
        // before the cut are still found; the decoder reports the truncated pixels.
        kept.Write([0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82]);
        kept.Position = 0;
        return kept;
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
