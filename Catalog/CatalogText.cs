using System.Text;

namespace IngestLite.Catalog;

/// <summary>Text as the catalog stores it.</summary>
public static class CatalogText
{
    /// <summary>Strips NUL and other control characters (keeping tab and newlines), which SQLite and browsers mishandle.</summary>
    public static string? Clean(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var firstBad = text.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        if (firstBad < 0 && !text.Contains('\u007f'))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (!char.IsControl(c) || c is '\t' or '\n' or '\r')
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
