namespace IngestLite.Jobs.Watching;

/// <summary>Which file system a folder is on, from <c>/proc/self/mountinfo</c>: network ones deliver no file events.</summary>
public static class NetworkMounts
{
    private static readonly HashSet<string> Network = new(StringComparer.Ordinal)
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "fuse.sshfs", "fuse.rclone", "davfs", "fuse.davfs2", "afs", "lustre",
    };

    /// <summary>The network file system type holding <paramref name="fullPath"/>, or null (a local one, or not Linux).</summary>
    public static string? FileSystemOf(string fullPath) =>
        File.Exists("/proc/self/mountinfo") ? FileSystemOf(fullPath, File.ReadLines("/proc/self/mountinfo")) : null;

    /// <summary>The same over the lines of a mountinfo file: the longest mount point that holds the path decides.</summary>
    public static string? FileSystemOf(string fullPath, IEnumerable<string> mountinfo)
    {
        string? best = null;
        var bestLength = -1;
        foreach (var line in mountinfo)
        {
            // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue": mount point 5th, type after " - ".
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 1 >= fields.Length)
            {
                continue;
            }

            var mountPoint = Unescape(fields[4]);
            var holds = fullPath == mountPoint || fullPath.StartsWith(mountPoint.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (holds && mountPoint.Length > bestLength)
            {
                bestLength = mountPoint.Length;
                best = fields[separator + 1];
            }
        }

        return best is not null && Network.Contains(best) ? best : null;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as three octal digits (<c>\040</c>).</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new System.Text.StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.AsSpan(i + 1, 3).ToString() is var digits && digits.All(c => c is >= '0' and <= '7'))
            {
                builder.Append((char)Convert.ToInt32(digits, 8));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }
}
