using System.Globalization;
using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Reading loosely typed JSON values as the generation tools write them: numbers that are
/// sometimes strings ("seed": "1234"), strings that are sometimes numbers. A value that is present
/// but unreadable becomes a warning on the draft, never an exception.
/// </summary>
internal static class GenerationJson
{
    /// <summary>Tolerant of the trailing commas and comments some tools leave; depth-bounded against hostile nesting.</summary>
    public static readonly JsonDocumentOptions Options = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
        MaxDepth = 64,
    };

    /// <summary>Parses <paramref name="text"/>, or warns "<paramref name="label"/>: not valid JSON" and returns null.</summary>
    public static JsonDocument? Parse(string text, string label, GenerationDraft draft)
    {
        try
        {
            return JsonDocument.Parse(text, Options);
        }
        catch (JsonException ex)
        {
            draft.Warn($"{label}: not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})");
            return null;
        }
    }

    /// <summary>Whether the text looks like a JSON object, without parsing it.</summary>
    public static bool LooksLikeObject(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        return trimmed.Length > 0 && trimmed[0] == '{';
    }

    public static bool TryGet(JsonElement element, string name, out JsonElement value)
    {
        value = default;
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    /// <summary>A string property; a number or boolean is given as its JSON text.</summary>
    public static string? String(JsonElement element, string name) =>
        TryGet(element, name, out var value) ? AsString(value) : null;

    public static string? AsString(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => null,
    };

    public static int? Int(JsonElement element, string name, GenerationDraft draft) =>
        TryGet(element, name, out var value) ? AsInt(value, name, draft) : null;

    public static double? Double(JsonElement element, string name, GenerationDraft draft) =>
        TryGet(element, name, out var value) ? AsDouble(value, name, draft) : null;

    public static long? Long(JsonElement element, string name, GenerationDraft draft) =>
        TryGet(element, name, out var value) ? AsLong(value, name, draft) : null;

    public static int? AsInt(JsonElement value, string label, GenerationDraft draft)
    {
        var number = AsDouble(value, label, draft);
        if (number is null)
        {
            return null;
        }

        if (number is >= int.MinValue and <= int.MaxValue && Math.Floor(number.Value) == number.Value)
        {
            return (int)number.Value;
        }

        draft.Warn($"{label}: {Short(value.GetRawText())} is not a whole number");
        return null;
    }

    public static double? AsDouble(JsonElement value, string label, GenerationDraft draft)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number))
        {
            return number;
        }

        if (value.ValueKind == JsonValueKind.String && ParseDouble(value.GetString()) is { } parsed)
        {
            return parsed;
        }

        draft.Warn($"{label}: {Short(value.GetRawText())} is not a number");
        return null;
    }

    /// <summary>A seed-sized integer; one above <see cref="long.MaxValue"/> (ComfyUI allows 2^64-1) is a warning.</summary>
    public static long? AsLong(JsonElement value, string label, GenerationDraft draft)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            return number;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        return ParseLong(text, label, draft);
    }

    public static long? ParseLong(string? text, string label, GenerationDraft draft)
    {
        text = text?.Trim();
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        draft.Warn(ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? $"{label}: {text} does not fit a signed 64-bit value"
            : $"{label}: {Short(text)} is not a whole number");
        return null;
    }

    public static double? ParseDouble(string? text) =>
        double.TryParse(text?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number : null;

    /// <summary>A value quoted in a warning, cut to a readable length.</summary>
    public static string Short(string? text)
    {
        if (text is null)
        {
            return "(none)";
        }

        return text.Length <= 40 ? $"'{text}'" : $"'{text[..40]}…'";
    }
}
