using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Reads the A1111 "infotext" layout, also written by Forge, SD.Next and Fooocus's a1111 scheme,
/// the way A1111's own <c>parse_generation_parameters</c> does: prompt lines, then lines from one
/// starting "Negative prompt:", then a last line of at least three "Key: value" settings, where a
/// value holding a comma, colon or newline is JSON-quoted (<c>Lora hashes: "a: 1f2e, b: 3c4d"</c>).
/// </summary>
internal static partial class A1111Parser
{
    private const string NegativeMarker = "Negative prompt:";

    /// <summary>A settings line longer than this is not matched (a prompt-only text can be one huge line).</summary>
    private const int MaxSettingsLineChars = 256 * 1024;

    /// <summary>Fills <paramref name="draft"/> from <paramref name="text"/>; false when the text has no settings line (it is then all prompt).</summary>
    public static bool Read(string text, string label, GenerationDraft draft)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var last = Array.FindLastIndex(lines, l => !string.IsNullOrWhiteSpace(l));
        var settingsIndex = -1;
        Dictionary<string, string>? settings = null;
        if (last >= 0 && Settings(lines[last], draft, label) is { } lastSettings)
        {
            settingsIndex = last;
            settings = lastSettings;
        }
        else
        {
            // Tolerate lines an extension appended after the settings line; A1111 itself would read them as prompt.
            for (var i = last - 1; i >= 0 && settings is null; i--)
            {
                if (lines[i].TrimStart().StartsWith("Steps:", StringComparison.Ordinal) && Settings(lines[i], draft, label) is { } found)
                {
                    settingsIndex = i;
                    settings = found;
                    draft.Warn($"{label}: {last - i} line(s) after the settings line were ignored");
                }
            }
        }

        if (settings is null)
        {
            draft.Warn($"{label}: no settings line (\"Steps: …, Sampler: …\"); read as a prompt only");
        }

        ReadPrompts(settingsIndex >= 0 ? lines.AsSpan(0, settingsIndex) : lines, draft);
        if (settings is not null)
        {
            ReadSettings(settings, draft);
        }

        ReadPromptLoras(draft.Prompt, draft);
        if (settings?.GetValueOrDefault("Lora hashes") is { } loraHashes)
        {
            ReadLoraPairs(loraHashes, "Lora hashes", draft, (name, hash) => draft.AddLora(name, null, hash));
        }

        if (settings?.GetValueOrDefault("Lora weights") is { } loraWeights)
        {
            // Fooocus's a1111 scheme: the weights of LoRAs chosen in its UI rather than by prompt tags.
            ReadLoraPairs(loraWeights, "Lora weights", draft, (name, weight) => draft.AddLora(name, GenerationJson.ParseDouble(weight)));
        }

        return settings is not null;
    }

    /// <summary>
    /// LoRA tags in a prompt: <c>&lt;lora:name:0.8&gt;</c>, <c>&lt;lora:name:0.8:0.5&gt;</c> (text encoder, then UNet)
    /// or <c>&lt;lora:name:te=0.8&gt;</c>; the weight is the text-encoder multiplier, null when the tag gives none.
    /// </summary>
    private static void ReadPromptLoras(string? prompt, GenerationDraft draft)
    {
        if (string.IsNullOrEmpty(prompt) || !prompt.Contains("lora", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        foreach (Match match in LoraTag().Matches(prompt))
        {
            double? weight = null;
            foreach (var argument in match.Groups["args"].Value.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = argument.IndexOf('=', StringComparison.Ordinal);
                if (equals < 0)
                {
                    weight = GenerationJson.ParseDouble(argument);
                    break;
                }

                if (argument[..equals].Trim().Equals("te", StringComparison.OrdinalIgnoreCase))
                {
                    weight = GenerationJson.ParseDouble(argument[(equals + 1)..]);
                    break;
                }
            }

            draft.AddLora(match.Groups["name"].Value, weight);
        }
    }

    /// <summary>The settings of one line, or null when it holds fewer than three (A1111's test for a settings line).</summary>
    private static Dictionary<string, string>? Settings(string line, GenerationDraft draft, string label)
    {
        if (line.Length > MaxSettingsLineChars || !line.Contains(':', StringComparison.Ordinal))
        {
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var count = 0;
        try
        {
            foreach (Match match in SettingPair().Matches(line))
            {
                count++;
                result[match.Groups["key"].Value.Trim()] = Unquote(match.Groups["value"].Value.Trim());
            }
        }
        catch (RegexMatchTimeoutException)
        {
            draft.Warn($"{label}: the settings line took too long to read");
            return null;
        }

        return count >= 3 ? result : null;
    }

    /// <summary>A value A1111 quoted with json.dumps; anything that is not valid JSON stays as written.</summary>
    private static string Unquote(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"')
        {
            return value;
        }

        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(value));
            return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() ?? value : value;
        }
        catch (JsonException)
        {
            return value;
        }
    }

    private static void ReadPrompts(ReadOnlySpan<string> lines, GenerationDraft draft)
    {
        var prompt = new StringBuilder();
        var negative = new StringBuilder();
        var inNegative = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith(NegativeMarker, StringComparison.Ordinal))
            {
                inNegative = true;
                line = line[NegativeMarker.Length..].Trim();
            }

            var target = inNegative ? negative : prompt;
            if (target.Length > 0)
            {
                target.Append('\n');
            }

            target.Append(line);
        }

        draft.Prompt = prompt.ToString();
        draft.NegativePrompt = negative.ToString();
    }

    private static void ReadSettings(Dictionary<string, string> settings, GenerationDraft draft)
    {
        draft.Steps = Int(settings, "Steps", draft);
        draft.Sampler = settings.GetValueOrDefault("Sampler");
        draft.Scheduler = settings.GetValueOrDefault("Schedule type") ?? settings.GetValueOrDefault("Scheduler");
        draft.CfgScale = Double(settings, "CFG scale", draft);
        if (settings.TryGetValue("Seed", out var seed))
        {
            draft.Seed = GenerationJson.ParseLong(seed, "Seed", draft);
        }

        if (settings.TryGetValue("Size", out var size))
        {
            var match = SizeValue().Match(size);
            if (match.Success)
            {
                draft.Width = int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
                draft.Height = int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture);
            }
            else
            {
                draft.Warn($"Size: {GenerationJson.Short(size)} is not WIDTHxHEIGHT");
            }
        }

        draft.Model = settings.GetValueOrDefault("Model");
        draft.ModelHash = settings.GetValueOrDefault("Model hash");
        draft.Vae = settings.GetValueOrDefault("VAE");
        draft.Denoise = Double(settings, "Denoising strength", draft);
        draft.ClipSkip = Int(settings, "Clip skip", draft);
        draft.HiresUpscale = Double(settings, "Hires upscale", draft);
        draft.HiresUpscaler = settings.GetValueOrDefault("Hires upscaler");
        ReadVersion(settings, draft);
        if (draft.Source == GenerationSources.Fooocus)
        {
            // Fooocus's a1111 scheme puts the expanded prompt on the prompt lines and what the user typed in "Raw prompt".
            draft.Prompt = settings.GetValueOrDefault("Raw prompt") ?? draft.Prompt;
            draft.NegativePrompt = settings.GetValueOrDefault("Raw negative prompt") ?? draft.NegativePrompt;
        }
    }

    /// <summary>Which application wrote the text: SD.Next says "App: SD.Next"; Forge versions start "f2.0.1v1.10.1"; A1111's "v1.10.1".</summary>
    private static void ReadVersion(Dictionary<string, string> settings, GenerationDraft draft)
    {
        var version = GenerationDraft.Text(settings.GetValueOrDefault("Version"));
        var app = GenerationDraft.Text(settings.GetValueOrDefault("App"));
        if (app is not null)
        {
            draft.Version = version is null ? app : $"{app} {version}";
        }
        else if (version is null)
        {
            draft.Version = null;
        }
        else if (version.StartsWith("Fooocus", StringComparison.OrdinalIgnoreCase))
        {
            draft.Source = GenerationSources.Fooocus;
            draft.Version = version;
        }
        else if (ForgeVersion().IsMatch(version))
        {
            draft.Version = $"Forge {version}";
        }
        else if (A1111Version().IsMatch(version))
        {
            draft.Version = $"A1111 {version}";
        }
        else
        {
            draft.Version = version;
        }
    }

    /// <summary>"name: value, name2: value2"; A1111 removes ':' and ',' from the names, so the split is safe. A name matches its prompt tag's alias.</summary>
    private static void ReadLoraPairs(string text, string key, GenerationDraft draft, Action<string, string> add)
    {
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0)
            {
                draft.Warn($"{key}: {GenerationJson.Short(entry)} is not \"name: value\"");
                continue;
            }

            var name = entry[..colon].Trim();
            var tagged = draft.Loras.Find(l => string.Equals(Alias(l.Name), name, StringComparison.OrdinalIgnoreCase));
            add(tagged?.Name ?? name, entry[(colon + 1)..].Trim());
        }
    }

    private static string Alias(string name) => name.Replace(":", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);

    private static int? Int(Dictionary<string, string> settings, string key, GenerationDraft draft)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        draft.Warn($"{key}: {GenerationJson.Short(text)} is not a whole number");
        return null;
    }

    private static double? Double(Dictionary<string, string> settings, string key, GenerationDraft draft)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return null;
        }

        var value = GenerationJson.ParseDouble(text);
        if (value is null)
        {
            draft.Warn($"{key}: {GenerationJson.Short(text)} is not a number");
        }

        return value;
    }

    /// <summary>A1111's re_param: a key of word characters, spaces, '-' and '/', then a JSON-quoted value or one up to the next comma.</summary>
    [GeneratedRegex("""\s*(?<key>\w[\w \-/]+):\s*(?<value>"(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex SettingPair();

    [GeneratedRegex(@"^\s*(\d{1,6})\s*x\s*(\d{1,6})\s*$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex SizeValue();

    [GeneratedRegex(@"<\s*lora\s*:\s*(?<name>[^:>]+)(?<args>(?::[^>]*)?)>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex LoraTag();

    [GeneratedRegex(@"^f\d+\.\d", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex ForgeVersion();

    [GeneratedRegex(@"^v\d+\.\d", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex A1111Version();
}
