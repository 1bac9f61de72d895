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

    /// <summary>For a discovery that skips nothing: no file is known.</summary>
    public static IReadOnlySet<string> NothingKnown(IReadOnlyList<DiscoveredFile> files) => Empty;

    private static readonly IReadOnlySet<string> Empty = new HashSet<string>();

    /// <summary>Everything <see cref="Enumerate"/> finds, in lists (a watch's folder, tests): for small trees only.</summary>
    public static DiscoveryResult Discover(
        MediaRoot root,
        IEnumerable<string> directories,
        FilePattern pattern,
        bool recursive,
        int? maxFiles,
        Func<IReadOnlyList<DiscoveredFile>, IReadOnlySet<string>> unchanged,
        CancellationToken cancellationToken)
    {
        var files = new List<DiscoveredFile>();
        var skipped = new List<DiscoveredFile>();
        var problems = new List<DiscoveryProblem>();
        foreach (var item in Enumerate(root, directories, pattern, recursive, maxFiles, unchanged, cancellationToken))
        {
            switch (item.Kind)
            {
                case DiscoveryKind.Pending: files.Add(item.File); break;
                case DiscoveryKind.Skipped: skipped.Add(item.File); break;
                default: problems.Add(new DiscoveryProblem(item.File.Path, item.Reason!)); break;
            }
        }

        return new DiscoveryResult(files, skipped, problems);
    }

    /// <summary>
    /// The files under <paramref name="directories"/> that match, one at a time as they are found (nothing is held but
    /// the folders still to visit, so a million files cost no more memory than a thousand): depth first, each folder's
    /// entries in ordinal order, its files before its sub-folders. A folder that cannot be listed is a problem item. A
    /// folder given twice, or inside another given one when recursive, is walked once.
    /// </summary>
    /// <param name="unchanged">The paths of a folder's files the catalog already holds with the same size and mtime.</param>
    public static IEnumerable<DiscoveryItem> Enumerate(
        MediaRoot root,
        IEnumerable<string> directories,
        FilePattern pattern,
        bool recursive,
        int? maxFiles,
        Func<IReadOnlyList<DiscoveredFile>, IReadOnlySet<string>> unchanged,
        CancellationToken cancellationToken)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = 0;
        var stack = new Stack<(string Directory, int Depth)>();
        foreach (var directory in Outermost([.. directories], recursive).Reverse())
        {
            stack.Push((directory, 0));
        }

        while (stack.TryPop(out var next))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (directory, depth) = next;
            if (depth > MaxDepth || !visited.Add(directory))
            {
                continue;
            }

            FileSystemInfo[] entries;
            DiscoveryItem? problem = null;
            try
            {
                entries = new DirectoryInfo(directory).GetFileSystemInfos("*", ListOnce);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The reason without the server's absolute path, which .NET's message names.
                entries = [];
                problem = new DiscoveryItem(DiscoveryKind.Problem, new DiscoveredFile(root.ToRelative(directory), 0, DateTimeOffset.UnixEpoch), ex is UnauthorizedAccessException
                    ? "cannot list folder: permission denied"
                    : $"cannot list folder: {ex.Message.Replace(directory, root.ToRelative(directory), StringComparison.Ordinal)}");
            }

            if (problem is { } failed)
            {
                yield return failed;
                continue;
            }

            Array.Sort(entries, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var subdirectories = new List<string>();
            // A folder's files are asked about (unchanged since catalogued?) a batch at a time: a few queries a folder,
            // not one a file, and a small max_files in a huge folder stops after its first batch.
            var batch = new List<DiscoveredFile>(KnownFiles.PathsPerQuery);
            for (var e = 0; e <= entries.Length; e++)
            {
                if (e < entries.Length)
                {
                    var entry = entries[e];
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

                    if (!pattern.IsMatch(entry.Name))
                    {
                        continue;
                    }

                    // Size and mtime of what the name points at; a dangling or escaping link gets its error in the job.
                    batch.Add(entry.Exists
                        ? new DiscoveredFile(root.ToRelative(entry.FullName), SafeLength(entry), new DateTimeOffset(entry.LastWriteTimeUtc, TimeSpan.Zero))
                        : new DiscoveredFile(root.ToRelative(entry.FullName), 0, DateTimeOffset.UnixEpoch));
                    if (batch.Count < KnownFiles.PathsPerQuery)
                    {
                        continue;
                    }
                }

                if (batch.Count == 0)
                {
                    continue;
                }

                var known = unchanged(batch);
                foreach (var found in batch)
                {
                    if (known.Contains(found.Path))
                    {
                        yield return new DiscoveryItem(DiscoveryKind.Skipped, found);
                        continue;
                    }

                    yield return new DiscoveryItem(DiscoveryKind.Pending, found);
                    if (maxFiles is { } max && ++pending >= max)
                    {
                        yield break;
                    }
                }

                batch.Clear();
            }

            for (var i = subdirectories.Count - 1; i >= 0; i--)
            {
                // A folder reached through a symlink counts only if it stays inside the root; visited stops loops.
                var real = MediaRoot.RealPath(subdirectories[i]);
                if (real is not null && root.Contains(real))
                {
                    stack.Push((real, depth + 1));
                }
            }
        }
    }

    /// <summary>The folders to walk: each once, and, when recursive, none inside another.</summary>
    private static IEnumerable<string> Outermost(IReadOnlyList<string> directories, bool recursive)
    {
        var distinct = directories.Distinct(StringComparer.Ordinal).ToList();
        return recursive
            ? distinct.Where(d => !distinct.Any(other => other != d && d.StartsWith(Path.TrimEndingDirectorySeparator(other) + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            : distinct;
    }

    private static long SafeLength(FileSystemInfo entry) => entry is FileInfo file ? file.Length : 0;
}
