using IngestLite.Jobs.Stages;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>
/// Thumbnails on disk, one WebP per distinct content: <c>{ThumbnailPath}/{sha[0..2]}/{sha}.webp</c>. The ingest
/// writes them; the API serves them, and makes the ones of files catalogued before the stage existed on first ask.
/// Writes go to a temporary file first, so a reader never sees half a thumbnail.
/// </summary>
public sealed class ThumbnailStore(IOptions<IngestOptions> options, MediaRoot root)
{
    private readonly string _directory = options.Value.ThumbnailPath!;

    /// <summary>The longest side of thumbnails made here (at least 64 when the ingest makes none).</summary>
    public int Side { get; } = options.Value.ThumbnailSize > 0 ? options.Value.ThumbnailSize : 320;

    public string PathOf(string sha256) => Path.Combine(_directory, sha256[..2], sha256 + ".webp");

    public bool Has(string sha256) => File.Exists(PathOf(sha256));

    public void Save(string sha256, byte[] webp)
    {
        var path = PathOf(sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllBytes(temporary, webp);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// The thumbnail's file for a catalogued image, made now from the image if it has none yet; null when the
    /// image is gone, outside the root, or not decodable.
    /// </summary>
    public string? GetOrMake(string relativePath, string sha256)
    {
        var path = PathOf(sha256);
        if (File.Exists(path))
        {
            return path;
        }

        var real = MediaRoot.RealPath(root.ToFull(relativePath));
        if (real is null || !root.Contains(real) || !File.Exists(real))
        {
            return null;
        }

        try
        {
            using var stream = new FileStream(real, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
            if (PerceptualHash.Decode(stream, Side)?.Thumbnail is not { } webp)
            {
                return null;
            }

            Save(sha256, webp);
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }
}
