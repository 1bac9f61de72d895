namespace IngestLite.Tests.Support;

/// <summary>
/// What <see cref="MediaFactory.BuildStandardCorpus"/> wrote. Paths in the constants and lists are
/// relative to <see cref="Root"/> with forward slashes, as the catalog stores them.
/// </summary>
/// <param name="Root">The media root, fully qualified.</param>
/// <param name="OutsideFolder">The sibling folder outside the root that the escaping links point into.</param>
/// <param name="EscapeTarget">The PNG outside the root that <see cref="Escape"/> links to.</param>
/// <param name="OutsideDirectory">The folder outside the root that <see cref="OutsideDir"/> links to.</param>
public sealed record StandardCorpus(string Root, string OutsideFolder, string EscapeTarget, string OutsideDirectory)
{
    public const string A1111 = "photos/a1111.png";
    public const string Comfy = "photos/comfy.png";
    public const string NulPrompt = "photos/nul-prompt.png";
    public const string ExifJpeg = "photos/exif.jpg";
    public const string UpperJpeg = "photos/upper.JPG";
    public const string BadScore = "photos/bad-score.png";
    public const string BigScore = "photos/big-score.png";
    public const string Notes = "photos/notes.txt";
    public const string Escape = "photos/escape.png";
    public const string OutsideDir = "photos/outside-dir";
    public const string Clip = "photos/nested/clip.mp4";
    public const string Inner = "photos/nested/deep/inner.png";
    public const string Corrupt = "broken/corrupt.png";
    public const string Zero = "broken/zero.png";
    public const string Truncated = "broken/truncated.jpg";
    public const string Good = "broken/good.png";

    public const string A1111Prompt = "masterpiece, (best quality:1.2), a red fox, <lora:foxStyle:0.8>, forest";
    public const string ComfyPositive = "a blue whale, ocean, Ocean";
    public const string NulPromptText = "cat\0 sitting, window";
    public const double ClipSeconds = 12.5;

    public static readonly DateTime ExifTakenAt = new(2021, 6, 15, 10, 30, 0);

    /// <summary>
    /// Every file the default pattern finds when discovery walks the whole root recursively, in
    /// discovery order (each folder's files by ordinal name, then its sub-folders). Hidden
    /// <c>.scores</c>, <c>notes.txt</c> and the linked-out folder are not among them; the
    /// linked-out file is, because its error belongs to the job.
    /// </summary>
    public IReadOnlyList<string> Discoverable { get; } =
    [
        Corrupt, Good, Truncated, Zero,
        A1111, BadScore, BigScore, Comfy, Escape, ExifJpeg, NulPrompt, UpperJpeg,
        Clip,
        Inner,
    ];

    /// <summary>
    /// Files that must end as per-file errors: bytes no decoder recognises, empty, and resolving
    /// outside the root. The truncated JPEG is still committed (it only loses its perceptual hash).
    /// </summary>
    public IReadOnlyList<string> Failing { get; } = [Corrupt, Zero, Escape];

    /// <summary>The score each scored file should import; null where the sidecar is unreadable.</summary>
    public IReadOnlyDictionary<string, double?> Scores { get; } = new Dictionary<string, double?>
    {
        [A1111] = 4.5,
        [BadScore] = null,
        [BigScore] = 0,
    };

    public int ExpectedDiscovered => Discoverable.Count;

    public int ExpectedFailed => Failing.Count;

    public int ExpectedCommitted => Discoverable.Count - Failing.Count;

    public int ExpectedScoresImported => Scores.Values.Count(s => s is not null);

    public string FullPath(string relative) => Path.Join(Root, relative);

    /// <summary>Removes the root and the outside folder; links are removed, never followed.</summary>
    public void Delete()
    {
        foreach (var folder in new[] { Root, OutsideFolder })
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
