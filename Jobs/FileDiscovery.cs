using IngestLite.Catalog;

namespace IngestLite.Jobs;

/// <summary>
/// Walks the chosen folders up front, in a stable order (each folder's files by ordinal name,
/// then its sub-folders), skipping hidden entries, leaving the root through symlinks, and loops.
/// </summary>
public static class FileDiscovery
{
    private const int MaxDepth = 64;

    private static readonly EnumerationOptions ListOnce = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = false,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    /// <param name="isUnchanged">True when the catalog already holds this path with the same size and mtime.</param>
    public static DiscoveryResult Discover(
        MediaRoot root,
        IEnumerable<string> directories,
        FilePattern pattern,
        bool recursive,
        int? maxFiles,
        Func<DiscoveredFile, bool> isUnchanged,
        CancellationToken cancellationToken)
    {
        var files = new List<DiscoveredFile>();
        var skipped = new List<DiscoveredFile>();
        var problems = new List<DiscoveryProblem>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var seenFiles = new HashSet<string>(StringComparer.Ordinal);

        foreach (var directory in directories)
        {
            Walk(directory, 0);
        }

        return new DiscoveryResult(files, skipped, problems);

        bool Full() => maxFiles is { } max && files.Count >= max;

        void Walk(string directory, int depth)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Full() || depth > MaxDepth || !visited.Add(directory))
            {
                return;
            }

            FileSystemInfo[] entries;
            try
            {
                entries = new DirectoryInfo(directory).GetFileSystemInfos("*", ListOnce);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The reason without the server's absolute path, which .NET's message names.
                problems.Add(new DiscoveryProblem(root.ToRelative(directory), ex is UnauthorizedAccessException
                    ? "cannot list folder: permission denied"
                    : $"cannot list folder: {ex.Message.Replace(directory, root.ToRelative(directory), StringComparison.Ordinal)}"));
                return;
            }

            Array.Sort(entries, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var subdirectories = new List<string>();
            foreach (var entry in entries)
            {
                if (entry.Name.StartsWith('.'))
                {
                    continue;
                }

                if (entry is DirectoryInfo)
                {
                    if (recursive)
                    {
                        subdirectories.Add(entry.FullName);
                    }

                    continue;
                }

                if (Full())
                {
                    return;
                }

                if (!pattern.IsMatch(entry.Name))
                {
                    continue;
                }

                var relative = root.ToRelative(entry.FullName);
                if (!seenFiles.Add(relative))
                {
                    continue;
                }

                // Size and mtime of what the name points at; a dangling or escaping link gets its error in the job.
                var found = entry.Exists
                    ? new DiscoveredFile(relative, SafeLength(entry), new DateTimeOffset(entry.LastWriteTimeUtc, TimeSpan.Zero))
                    : new DiscoveredFile(relative, 0, DateTimeOffset.UnixEpoch);
                (isUnchanged(found) ? skipped : files).Add(found);
            }

            foreach (var subdirectory in subdirectories)
            {
                // A folder reached through a symlink counts only if it stays inside the root; visited stops loops.
                var real = MediaRoot.RealPath(subdirectory);
                if (real is null || !root.Contains(real))
                {
                    continue;
                }

                Walk(real, depth + 1);
            }
        }
    }

    private static long SafeLength(FileSystemInfo entry) => entry is FileInfo file ? file.Length : 0;
}
