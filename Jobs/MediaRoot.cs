using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>
/// The configured media tree and the one gate every user-supplied path goes through:
/// no <c>..</c>, symlinks resolved, and the result must stay inside the root.
/// </summary>
public sealed class MediaRoot
{
    private const int MaxLinkHops = 40;

    public MediaRoot(IOptions<IngestOptions> options)
    {
        Directory.CreateDirectory(options.Value.MediaRoot);
        FullPath = RealPath(Path.GetFullPath(options.Value.MediaRoot)) ?? throw new InvalidOperationException(
            $"Ingest:MediaRoot '{options.Value.MediaRoot}' could not be resolved (symlink loop?).");
    }

    /// <summary>The root with every symlink resolved.</summary>
    public string FullPath { get; }

    /// <summary>Resolves a user path (absolute inside the root, or relative to it) to a real path inside the root.</summary>
    public bool TryResolve(string? input, out string fullPath, out string error)
    {
        fullPath = FullPath;
        error = "";
        if (string.IsNullOrWhiteSpace(input))
        {
            return true;
        }

        if (input.Contains('\0') || input.Length > 4096)
        {
            error = "is not a valid path";
            return false;
        }

        if (input.Split('/', '\\').Any(segment => segment == ".."))
        {
            error = "must not contain '..'";
            return false;
        }

        var combined = Path.GetFullPath(Path.IsPathRooted(input) ? input : Path.Join(FullPath, input));
        var real = RealPath(combined);
        if (real is null)
        {
            error = "has a symlink loop";
            return false;
        }

        if (!Contains(real))
        {
            error = "is outside the media root";
            return false;
        }

        fullPath = real;
        return true;
    }

    public bool Contains(string realPath) =>
        realPath == FullPath || realPath.StartsWith(FullPath.EndsWith('/') ? FullPath : FullPath + "/", StringComparison.Ordinal);

    /// <summary>The root-relative form with forward slashes; "" for the root itself.</summary>
    public string ToRelative(string fullPath) =>
        fullPath == FullPath ? "" : Path.GetRelativePath(FullPath, fullPath).Replace('\\', '/');

    public string ToFull(string relativePath) => relativePath.Length == 0 ? FullPath : Path.Join(FullPath, relativePath);

    /// <summary>
    /// Like POSIX realpath(3): every component's symlink resolved, missing tails kept as written.
    /// Null on a loop. .NET only offers the final target of a single link, so the walk is done here.
    /// </summary>
    public static string? RealPath(string absolutePath)
    {
        var pending = new Stack<string>(Split(absolutePath).Reverse());
        var current = "/";
        var hops = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var candidate = Path.Join(current, part);
            string? target;
            try
            {
                target = new FileInfo(candidate).LinkTarget;
            }
            catch (IOException)
            {
                target = null;
            }
            catch (UnauthorizedAccessException)
            {
                target = null;
            }

            if (target is null)
            {
                current = candidate;
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                return null;
            }

            if (Path.IsPathRooted(target))
            {
                current = "/";
            }

            foreach (var t in Split(target).Reverse())
            {
                pending.Push(t);
            }
        }

        return current;
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
