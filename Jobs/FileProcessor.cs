using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using IngestLite.Catalog;
using IngestLite.Jobs.Stages;
using IngestLite.Progress;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>The result of running the stages over one file, before it is committed.</summary>
public sealed record FileOutcome(MediaRecord? Media, SessionFileResult Result, FileError? Error, FileTally Tally);

/// <summary>
/// Runs the per-file stages: stat, hash, metadata, keywords, score, phash and thumbnail. Required stages
/// (stat, hash) fail the file; optional ones only add a warning. Knows nothing of HTTP or SQL.
/// </summary>
public sealed partial class FileProcessor(MediaRoot root, ThumbnailStore thumbnails, IOptionsMonitor<IngestOptions> options, TimeProvider time, ILogger<FileProcessor> logger)
{
    private const int HashBufferBytes = 256 * 1024;

    public async Task<FileOutcome> ProcessAsync(DiscoveredFile file, IngestParameters parameters, SessionProgress progress, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var stage = "stat";
        var warnings = new List<string>();
        long size = 0;
        try
        {
            progress.SetStage(file.Path, stage);
            var fullPath = root.ToFull(file.Path);
            var info = Stat(fullPath);
            size = info.Length;

            // A small file is read once, into a pooled buffer, and every stage works on those bytes; a large one is
            // streamed per stage. (A new array per file would cost more than the hash: measured here, 7-17 ms for a
            // 3 MB PNG, most of it the kernel handing out and zeroing fresh pages.)
            using var content = size < options.CurrentValue.LargeFileBytes
                ? await FileContent.ReadAsync(info.FullName, size, cancellationToken)
                : FileContent.OnDisk(info.FullName);
            var kind = SniffKind(content);

            stage = "hash";
            progress.SetStage(file.Path, stage, 0, size);
            var sha256 = content.InMemory
                ? Convert.ToHexStringLower(SHA256.HashData(content.Bytes))
                : await HashAsync(info.FullName, file.Path, size, progress, cancellationToken);

            MediaMetadata? metadata = null;
            if (parameters.ExtractMetadata)
            {
                stage = "metadata";
                progress.SetStage(file.Path, stage);
                metadata = Optional(stage, warnings, () => ReadMetadata(content, kind));
            }

            PromptKeywords? keywords = null;
            if (parameters.ExtractKeywords && metadata?.PositivePrompt is { } prompt)
            {
                stage = "keywords";
                progress.SetStage(file.Path, stage);
                keywords = Optional(stage, warnings, () => KeywordParser.Parse(prompt));
            }

            double? score = null;
            if (parameters.ImportScores)
            {
                stage = "score";
                progress.SetStage(file.Path, stage);
                score = await ScoreSidecar.ReadAsync(info.FullName, cancellationToken);
            }

            ulong? phash = null;
            if (kind == "image")
            {
                stage = "phash";
                progress.SetStage(file.Path, stage);
                // No decoder recognises the bytes: the file is not the image it claims to be, which fails it.
                // A truncated but recognisable image only loses its hash (a warning).
                // One decode for both the hash and the thumbnail (made once per distinct content).
                var side = options.CurrentValue.ThumbnailSize > 0 && !thumbnails.Has(sha256) ? options.CurrentValue.ThumbnailSize : 0;
                var derived = Optional(stage, warnings, () => PerceptualHash.Decode(content.Open(), side) ?? throw new CorruptMediaException("not a decodable image"));
                phash = derived?.Hash;
                if (derived?.Thumbnail is { } webp)
                {
                    stage = "thumbnail";
                    progress.SetStage(file.Path, stage);
                    Optional<object>(stage, warnings, () =>
                    {
                        thumbnails.Save(sha256, webp);
                        return null;
                    });
                }
            }

            stage = "commit";
            progress.SetStage(file.Path, stage);
            var media = WithMetadata(
                new MediaRecord(file.Path, size, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), kind, sha256,
                    Score: score, PerceptualHash: phash is { } h ? unchecked((long)h) : null, IngestedAt: time.GetUtcNow()),
                metadata, keywords);
            // Metadata that could not be read is a warning on the file, never a failure.
            warnings.AddRange(metadata?.Generation?.Warnings.Select(w => $"metadata: {w}") ?? []);
            var state = warnings.Count == 0 ? FileStates.Committed : FileStates.CommittedWithWarnings;
            var result = new SessionFileResult(file.Path, state, stage, warnings.Count == 0 ? null : string.Join("; ", warnings), size, ElapsedMs(started));
            var tally = new FileTally(true, metadata is not null, keywords?.Keywords.Count ?? 0, score is not null, warnings.Count);
            return new FileOutcome(media, result, null, tally);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Failed(file.Path, stage, Reason(ex), size, started);
        }
    }

    /// <summary>
    /// <paramref name="record"/> with every field its metadata gives (dimensions, dates, the generation settings,
    /// keywords and LoRAs): the one mapping, for the ingest and for re-reading the metadata of catalogued files.
    /// </summary>
    public static MediaRecord WithMetadata(MediaRecord record, MediaMetadata? metadata, PromptKeywords? keywords)
    {
        var generation = metadata?.Generation;

        // LoRAs named by the metadata (prompt tags, hashes, ComfyUI loaders) first, then any other prompt tag the keyword parser saw.
        IReadOnlyList<string>? loras = generation is { Loras.Count: > 0 }
            ? [.. generation.Loras.Select(l => l.Name).Union(keywords?.Loras ?? [], StringComparer.OrdinalIgnoreCase)]
            : keywords?.Loras;
        return record with
        {
            Width = metadata?.Width, Height = metadata?.Height, TakenAt = metadata?.TakenAt, DurationSeconds = metadata?.DurationSeconds,
            Prompt = metadata?.PositivePrompt, NegativePrompt = generation?.NegativePrompt, Steps = generation?.Steps, Sampler = generation?.Sampler,
            CfgScale = generation?.CfgScale, Seed = generation?.Seed, Model = generation?.Model, ComfyPrompt = metadata?.ComfyPrompt,
            ComfyWorkflow = metadata?.ComfyWorkflow, Keywords = keywords?.Keywords, Loras = loras,
            Scheduler = generation?.Scheduler, ModelHash = generation?.ModelHash, Vae = generation?.Vae, Denoise = generation?.Denoise,
            ClipSkip = generation?.ClipSkip, HiresUpscale = generation?.HiresUpscale, HiresUpscaler = generation?.HiresUpscaler,
            Generator = generation?.Source, GeneratorVersion = generation?.Version, Samplers = generation?.Samplers,
            LoraWeights = loras is null ? null : [.. loras.Select(name => new LoraUse(name, generation?.Loras.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase))?.Weight))],
        };
    }

    /// <summary>The outcome for a file whose required stage failed.</summary>
    public FileOutcome Failed(string path, string stage, string reason, long size, long startedTimestamp)
    {
        var error = new FileError(path, stage, reason, time.GetUtcNow());
        var result = new SessionFileResult(path, FileStates.Failed, stage, reason, size, ElapsedMs(startedTimestamp));
        return new FileOutcome(null, result, error, new FileTally(false, false, 0, false, 0));
    }

    private long ElapsedMs(long started) => (long)time.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>Checks the file is still a regular file inside the root, following links to their real target.</summary>
    private FileInfo Stat(string fullPath)
    {
        var real = MediaRoot.RealPath(fullPath) ?? throw new IOException("symlink loop");
        if (!root.Contains(real))
        {
            throw new UnauthorizedAccessException("resolves outside the media root");
        }

        var info = new FileInfo(real);
        if (!info.Exists)
        {
            throw new FileNotFoundException("file no longer exists");
        }

        // Only regular, non-empty files are opened. FIFOs, sockets and devices report a size of 0,
        // and .NET exposes no file-type bit, so the size check is also what keeps the job from blocking on them.
        if (info.Length == 0)
        {
            throw new InvalidDataException("file is empty or not a regular file");
        }

        return info;
    }

    /// <summary>Image or video by content, not by name: a renamed text file is not media.</summary>
    private static string SniffKind(FileContent content)
    {
        Span<byte> head = stackalloc byte[16];
        int read;
        using (var stream = content.Open())
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        ReadOnlySpan<byte> bytes = head[..read];
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]) ||
            bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ||
            bytes.StartsWith("GIF8"u8) ||
            (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8)))
        {
            return "image";
        }

        if (bytes.Length >= 8 && (bytes[4..8].SequenceEqual("ftyp"u8) || bytes[4..8].SequenceEqual("moov"u8) || bytes[4..8].SequenceEqual("mdat"u8) || bytes[4..8].SequenceEqual("wide"u8)) ||
            bytes.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return "video";
        }

        throw new InvalidDataException("content is not a recognised image or video");
    }

    /// <summary>A file's bytes: held in a pooled buffer when small, otherwise opened from disk for each reader.</summary>
    private sealed class FileContent : IDisposable
    {
        private readonly string? _path;
        private byte[]? _buffer;
        private readonly int _length;

        private FileContent(byte[]? buffer, int length, string? path)
        {
            _buffer = buffer;
            _length = length;
            _path = path;
        }

        public bool InMemory => _path is null;

        /// <summary>The bytes read (in memory only); valid until disposed.</summary>
        public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, _length);

        public static async Task<FileContent> ReadAsync(string path, long size, CancellationToken cancellationToken)
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            // One byte more than the stat said, so a file that grew since is seen to have.
            var buffer = ArrayPool<byte>.Shared.Rent(checked((int)size + 1));
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            return new FileContent(buffer, Math.Min(read, (int)size), null);
        }

        public static FileContent OnDisk(string path) => new(null, 0, path);

        public Stream Open() => _path is null
            ? new MemoryStream(_buffer ?? throw new ObjectDisposedException(nameof(FileContent)), 0, _length, writable: false)
            : new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024, FileOptions.SequentialScan);

        public void Dispose()
        {
            if (_buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task<string> HashAsync(string fullPath, string relative, long size, SessionProgress progress, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[Math.Min(HashBufferBytes, Math.Max(4096, size))];
        var threshold = options.CurrentValue.LargeFileBytes;
        var large = size >= threshold;
        long done = 0, lastReported = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            done += read;
            if (large && done - lastReported >= Math.Max(threshold / 8, HashBufferBytes))
            {
                lastReported = done;
                progress.SetStage(relative, "hash", done, size);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Runs an optional stage: a failure becomes a warning and the stage yields nothing.</summary>
    private T? Optional<T>(string stage, List<string> warnings, Func<T?> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or CorruptMediaException))
        {
            warnings.Add($"{stage}: {Reason(ex)}");
            LogOptionalStageFailed(logger, stage, ex.Message);
            return default;
        }
    }

    /// <summary>Images are checked by their decoder later; a video has no other reader, so unreadable metadata fails it.</summary>
    private static MediaMetadata ReadMetadata(FileContent content, string kind)
    {
        MediaMetadata metadata;
        try
        {
            using var stream = content.Open();
            metadata = MediaMetadataReader.Read(stream);
        }
        catch (Exception ex) when (kind == "video" && ex is not OperationCanceledException)
        {
            throw new CorruptMediaException($"not a readable video: {ex.Message}");
        }

        return kind == "video" && metadata.DurationSeconds is null && metadata.Width is null
            ? throw new CorruptMediaException("not a readable video: no movie header found")
            : metadata;
    }

    /// <summary>A file whose content no reader accepts; fails the file even in an optional stage.</summary>
    private sealed class CorruptMediaException(string message) : Exception(message);

    private static string Reason(Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => "file no longer exists",
        UnauthorizedAccessException u => u.Message.Contains("outside", StringComparison.Ordinal) ? u.Message : "permission denied",
        _ => ex.Message,
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Optional stage {Stage} failed: {Reason}")]
    private static partial void LogOptionalStageFailed(ILogger logger, string stage, string reason);
}
