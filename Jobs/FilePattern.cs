namespace IngestLite.Jobs;

/// <summary>
/// A <c>|</c>-separated list of file-name globs (<c>*</c>, <c>?</c>), matched case-insensitively.
/// Globs are matched directly, never translated to a regex, so metacharacters are plain text.
/// </summary>
public sealed class FilePattern
{
    public const string Default = "*.mp4|*.png|*.jpg|*.jpeg";
    public const int MaxLength = 512;
    public const int MaxAlternatives = 32;

    private readonly string[] _globs;

    private FilePattern(string text, string[] globs)
    {
        Text = text;
        _globs = globs;
    }

    public string Text { get; }

    public static bool TryParse(string? text, out FilePattern pattern, out string error)
    {
        text = string.IsNullOrWhiteSpace(text) ? Default : text.Trim();
        pattern = null!;
        error = "";
        if (text.Length > MaxLength)
        {
            error = $"is longer than {MaxLength} characters";
            return false;
        }

        var globs = text.Split('|', StringSplitOptions.TrimEntries);
        if (globs.Length > MaxAlternatives)
        {
            error = $"has more than {MaxAlternatives} alternatives";
            return false;
        }

        for (var i = 0; i < globs.Length; i++)
        {
            var glob = globs[i];
            if (glob.Length == 0)
            {
                error = "has an empty alternative";
                return false;
            }

            if (glob.IndexOfAny(['/', '\\', '\0']) >= 0)
            {
                error = $"alternative '{glob}' must match file names, not paths";
                return false;
            }

            // "**" means the same as "*" for a name; collapsing keeps matching linear.
            while (glob.Contains("**", StringComparison.Ordinal))
            {
                glob = glob.Replace("**", "*", StringComparison.Ordinal);
            }

            globs[i] = glob;
        }

        pattern = new FilePattern(text, globs);
        return true;
    }

    public bool IsMatch(string fileName)
    {
        foreach (var glob in _globs)
        {
            if (GlobMatch(glob, fileName))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Greedy wildcard match with single backtrack point: O(n·m) worst case, no recursion.</summary>
    private static bool GlobMatch(ReadOnlySpan<char> glob, ReadOnlySpan<char> name)
    {
        int g = 0, n = 0, starG = -1, starN = 0;
        while (n < name.Length)
        {
            // '*' first: a '*' in the name is a plain character and must not disable the wildcard.
            if (g < glob.Length && glob[g] == '*')
            {
                starG = g++;
                starN = n;
            }
            else if (g < glob.Length && (glob[g] == '?' || char.ToUpperInvariant(glob[g]) == char.ToUpperInvariant(name[n])))
            {
                g++;
                n++;
            }
            else if (starG >= 0)
            {
                g = starG + 1;
                n = ++starN;
            }
            else
            {
                return false;
            }
        }

        while (g < glob.Length && glob[g] == '*')
        {
            g++;
        }

        return g == glob.Length;
    }
}
