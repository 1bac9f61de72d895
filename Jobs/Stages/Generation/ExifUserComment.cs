using System.Text;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Decodes an EXIF UserComment: an 8-byte character-code header, then the text. A1111 writes its
/// infotext there in JPEG and WebP files with piexif's "UNICODE\0" header and UTF-16 big-endian,
/// other writers use little-endian; Fooocus and SwarmUI write JSON with an "ASCII\0\0\0" header or none.
/// </summary>
public static class ExifUserComment
{
    private static readonly byte[] Unicode = "UNICODE\0"u8.ToArray();
    private static readonly byte[] Ascii = "ASCII\0\0\0"u8.ToArray();
    private static readonly byte[] Jis = "JIS\0\0\0\0\0"u8.ToArray();
    private static readonly byte[] Undefined = new byte[8];

    /// <summary>The comment's text, NULs and padding trimmed; null when it is empty.</summary>
    public static string? Decode(ReadOnlySpan<byte> raw)
    {
        string text;
        if (raw.Length >= 8 && raw[..8].SequenceEqual(Unicode))
        {
            text = DecodeUtf16(raw[8..]);
        }
        else if (raw.Length >= 8 && (raw[..8].SequenceEqual(Ascii) || raw[..8].SequenceEqual(Undefined) || raw[..8].SequenceEqual(Jis)))
        {
            // ASCII by the standard, but writers put UTF-8 there; JIS text is rare and read the same way rather than not at all.
            text = Encoding.UTF8.GetString(raw[8..]);
        }
        else
        {
            // No header (Pillow writes a str value as bare bytes): read as UTF-8, as A1111 does when piexif refuses it.
            text = Encoding.UTF8.GetString(raw);
        }

        text = text.Trim('\0', ' ', '\t', '\r', '\n');
        return text.Length == 0 ? null : text;
    }

    /// <summary>UTF-16 with the byte order from a BOM if present, otherwise from where the zero high bytes of ASCII characters fall.</summary>
    private static string DecodeUtf16(ReadOnlySpan<byte> body)
    {
        if (body.Length >= 2 && body[0] == 0xFE && body[1] == 0xFF)
        {
            return Encoding.BigEndianUnicode.GetString(body[2..]);
        }

        if (body.Length >= 2 && body[0] == 0xFF && body[1] == 0xFE)
        {
            return Encoding.Unicode.GetString(body[2..]);
        }

        int evenZeros = 0, oddZeros = 0;
        var sample = Math.Min(body.Length & ~1, 4096);
        for (var i = 0; i < sample; i += 2)
        {
            evenZeros += body[i] == 0 ? 1 : 0;
            oddZeros += body[i + 1] == 0 ? 1 : 0;
        }

        return oddZeros > evenZeros ? Encoding.Unicode.GetString(body) : Encoding.BigEndianUnicode.GetString(body);
    }
}
