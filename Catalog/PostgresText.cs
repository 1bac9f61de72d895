using System.Globalization;
using System.Text;

namespace IngestLite.Catalog;

/// <summary>
/// Full text on PostgreSQL cut into words as SQLite's FTS5 <c>unicode61 remove_diacritics 2</c> cuts it, so a search
/// finds the same files on both engines: a word is a run of letters, digits (and private-use characters), lower-cased,
/// its accents removed (Latin-1, Latin Extended-A and Greek tonos; combining marks are dropped). The words are made
/// here, not by PostgreSQL's parser, which keeps paths and hyphenated words whole and folds case by the server's
/// locale. The entry is a tsvector literal with positions (phrases need them), the query a tsquery literal.
/// </summary>
internal static class PostgresText
{
    /// <summary>Longer words are left out of the index (PostgreSQL refuses lexemes over 2 KB; nobody types them).</summary>
    private const int MaxWord = 255;

    /// <summary>PostgreSQL's limits: positions up to 16,383, at most 256 of them per word.</summary>
    private const int MaxPosition = 16_383, MaxPositions = 256;

    private static readonly Dictionary<char, char> Plain = BuildPlain();

    /// <summary>The words of <paramref name="text"/>, in order.</summary>
    public static List<string> Words(string? text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in (text ?? "").EnumerateRunes())
        {
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.NonSpacingMark:
                    break;
                case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
                    or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber or UnicodeCategory.PrivateUse:
                    var lower = Rune.ToLowerInvariant(rune);
                    if (lower.IsBmp && Plain.TryGetValue((char)lower.Value, out var plain))
                    {
                        word.Append(plain);
                    }
                    else
                    {
                        word.Append(lower.ToString());
                    }

                    break;
                default:
                    Flush();
                    break;
            }
        }

        Flush();
        return words;

        void Flush()
        {
            if (word.Length is > 0 and <= MaxWord)
            {
                words.Add(word.ToString());
            }

            word.Clear();
        }
    }

    /// <summary>
    /// The tsvector of a file's fields. A field's words take consecutive positions and a gap is left between fields,
    /// so a phrase never spans two fields (FTS5 indexes each field as its own column).
    /// </summary>
    public static string Vector(params string?[] fields)
    {
        var positions = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var at = 0;
        foreach (var field in fields)
        {
            foreach (var word in Words(field))
            {
                at = Math.Min(at + 1, MaxPosition);
                if (!positions.TryGetValue(word, out var list))
                {
                    positions[word] = list = [];
                }

                if (list.Count < MaxPositions && (list.Count == 0 || list[^1] != at))
                {
                    list.Add(at);
                }
            }

            at = Math.Min(at + 1, MaxPosition);
        }

        var vector = new StringBuilder();
        foreach (var (word, list) in positions)
        {
            Lexeme(vector.Append(vector.Length == 0 ? "" : " "), word).Append(':').AppendJoin(',', list);
        }

        return vector.ToString();
    }

    /// <summary>The tsquery of <see cref="FtsQuery.Terms"/>: every term required, a phrase's words adjacent (<c>&lt;-&gt;</c>), a prefix <c>:*</c>.</summary>
    public static string? Query(IReadOnlyList<(string Text, bool Prefix)> terms)
    {
        var query = new StringBuilder();
        foreach (var (text, prefix) in terms)
        {
            var words = Words(text);
            if (words.Count == 0)
            {
                continue;
            }

            query.Append(query.Length == 0 ? "(" : " & (");
            for (var i = 0; i < words.Count; i++)
            {
                Lexeme(query.Append(i == 0 ? "" : " <-> "), words[i]).Append(prefix && i == words.Count - 1 ? ":*" : "");
            }

            query.Append(')');
        }

        return query.Length == 0 ? null : query.ToString();
    }

    private static StringBuilder Lexeme(StringBuilder builder, string word) =>
        builder.Append('\'').Append(word.Replace("\\", "\\\\").Replace("'", "''")).Append('\'');

    /// <summary>Accented lower-case letters and their plain letter, as FTS5's remove_diacritics folds them.</summary>
    private static Dictionary<char, char> BuildPlain()
    {
        (char Plain, string Accented)[] groups =
        [
            ('a', "àáâãäåāăąǎ"), ('c', "çćĉċč"), ('d', "ď"), ('e', "èéêëēĕėęě"), ('g', "ĝğġģ"), ('h', "ĥ"),
            ('i', "ìíîïĩīĭįǐ"), ('j', "ĵ"), ('k', "ķ"), ('l', "ĺļľ"), ('n', "ñńņň"), ('o', "òóôõöōŏőǒ"),
            ('r', "ŕŗř"), ('s', "śŝşš"), ('t', "ţť"), ('u', "ùúûüũūŭůűųǔ"), ('w', "ŵ"), ('y', "ýÿŷ"), ('z', "źżž"),
            ('α', "ά"), ('ε', "έ"), ('η', "ή"), ('ι', "ίϊΐ"), ('ο', "ό"), ('υ', "ύϋΰ"), ('ω', "ώ"),
        ];
        return groups.SelectMany(g => g.Accented.Select(c => (c, g.Plain))).ToDictionary(p => p.c, p => p.Plain);
    }
}
