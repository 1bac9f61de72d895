using System.Text.RegularExpressions;

namespace IngestLite.Jobs.Stages;

/// <summary>Keywords and LoRA names pulled out of a positive prompt.</summary>
public sealed record PromptKeywords(IReadOnlyList<string> Keywords, IReadOnlyList<string> Loras);

/// <summary>
/// Splits an A1111-style prompt on commas, strips <c>(word:1.2)</c> weights and brackets,
/// records <c>&lt;lora:name:0.8&gt;</c> tags as LoRAs, lower-cases and de-duplicates.
/// </summary>
public static partial class KeywordParser
{
    private const int MaxKeywordLength = 100;
    private const int MaxKeywords = 200;
    private const string EscapedOpen = "\u0001";
    private const string EscapedClose = "\u0002";

    public static PromptKeywords Parse(string? prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt))
        {
            return new PromptKeywords([], []);
        }

        var loras = new List<string>();
        var withoutLoras = LoraTag().Replace(prompt, match =>
        {
            var name = match.Groups["name"].Value.Trim();
            if (name.Length > 0 && !loras.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                loras.Add(name);
            }

            return ",";
        });

        var keywords = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Escaped brackets are literal text ("miku \\(cosplay\\)"): park them while emphasis brackets are removed.
        var escaped = withoutLoras.Replace("\\(", EscapedOpen, StringComparison.Ordinal).Replace("\\)", EscapedClose, StringComparison.Ordinal);
        foreach (var raw in escaped.Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            var word = Weight().Replace(raw, "");
            word = word.Replace('(', ' ').Replace(')', ' ').Replace('[', ' ').Replace(']', ' ').Replace('{', ' ').Replace('}', ' ');
            word = word.Replace(EscapedOpen, "(", StringComparison.Ordinal).Replace(EscapedClose, ")", StringComparison.Ordinal);
            word = Spaces().Replace(word, " ").Trim().ToLowerInvariant();
            if (word.Length == 0 || word.Length > MaxKeywordLength || !seen.Add(word))
            {
                continue;
            }

            keywords.Add(word);
            if (keywords.Count == MaxKeywords)
            {
                break;
            }
        }

        return new PromptKeywords(keywords, loras);
    }

    [GeneratedRegex(@"<\s*lora\s*:\s*(?<name>[^:>]+)(?::[^>]*)?>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex LoraTag();

    /// <summary>An emphasis weight: ":1.2" or ":.5" just before the closing parenthesis.</summary>
    [GeneratedRegex(@":\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*(?=[)\]])", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex Weight();

    [GeneratedRegex(@"[\s\p{Cc}]+", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex Spaces();
}
