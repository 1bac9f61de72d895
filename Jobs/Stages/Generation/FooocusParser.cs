using System.Globalization;
using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Reads Fooocus's own metadata scheme: the JSON its <c>FooocusMetadataParser.parse_string</c>
/// (<c>modules/meta_parser.py</c>) writes to the PNG <c>parameters</c> chunk, with <c>fooocus_scheme</c>
/// "fooocus" beside it, or to the EXIF UserComment. Keys are the snake_case ids (prompt,
/// negative_prompt, steps, resolution "(1152, 896)", guidance_scale, sampler, scheduler, seed as a string,
/// base_model, base_model_hash, vae, clip_skip, loras as [name, weight, hash] triples, version); older
/// files use the labels ("Prompt", "Guidance Scale", "LoRA 1": "name : weight"), read as a fallback.
/// </summary>
internal static class FooocusParser
{
    /// <summary>The scheme chunk says so, or the JSON carries Fooocus's own keys.</summary>
    public static bool Recognises(JsonElement root, string? scheme) =>
        root.ValueKind == JsonValueKind.Object &&
        (string.Equals(scheme?.Trim(), "fooocus", StringComparison.OrdinalIgnoreCase) ||
         (GenerationJson.String(root, "version") ?? GenerationJson.String(root, "Version"))?.StartsWith("Fooocus", StringComparison.OrdinalIgnoreCase) == true ||
         (root.TryGetProperty("guidance_scale", out _) && root.TryGetProperty("base_model", out _)) ||
         root.TryGetProperty("full_prompt", out _));

    public static void Read(JsonElement root, GenerationDraft draft)
    {
        draft.Prompt = Pick(root, "prompt", "Prompt");
        draft.NegativePrompt = Pick(root, "negative_prompt", "Negative Prompt");
        draft.Steps = Number(root, "steps", "Steps") is { } steps ? GenerationJson.AsInt(steps, "steps", draft) : null;
        draft.CfgScale = Number(root, "guidance_scale", "Guidance Scale") is { } cfg ? GenerationJson.AsDouble(cfg, "guidance_scale", draft) : null;
        draft.Seed = Number(root, "seed", "Seed") is { } seed ? GenerationJson.AsLong(seed, "seed", draft) : null;
        draft.Sampler = Pick(root, "sampler", "Sampler");
        draft.Scheduler = Pick(root, "scheduler", "Scheduler");
        draft.Model = Pick(root, "base_model", "Base Model");
        draft.ModelHash = Pick(root, "base_model_hash", "Base Model Hash");
        draft.Vae = Pick(root, "vae", "VAE");
        draft.ClipSkip = Number(root, "clip_skip", "CLIP Skip") is { } clip ? GenerationJson.AsInt(clip, "clip_skip", draft) : null;
        draft.Version = Pick(root, "version", "Version") ?? "Fooocus";
        if (Pick(root, "resolution", "Resolution") is { } resolution)
        {
            ReadResolution(resolution, draft);
        }

        if (GenerationJson.TryGet(root, "loras", out var loras) && loras.ValueKind == JsonValueKind.Array)
        {
            foreach (var lora in loras.EnumerateArray())
            {
                if (lora.ValueKind == JsonValueKind.Array && lora.GetArrayLength() >= 2)
                {
                    draft.AddLora(GenerationJson.AsString(lora[0]), GenerationJson.AsDouble(lora[1], "loras", draft), lora.GetArrayLength() >= 3 ? GenerationJson.AsString(lora[2]) : null);
                }
            }
        }

        foreach (var property in root.EnumerateObject())
        {
            // "lora_combined_1": "name : 0.5", or "True : name : 0.5" with the enabled flag first.
            if ((property.Name.StartsWith("lora_combined_", StringComparison.Ordinal) || property.Name.StartsWith("LoRA ", StringComparison.Ordinal)) &&
                property.Value.ValueKind == JsonValueKind.String)
            {
                var parts = property.Value.GetString()!.Split(" : ");
                if (parts.Length == 3 && parts[0] == "False")
                {
                    continue;
                }

                var (name, weight) = parts.Length >= 3 ? (parts[1], parts[2]) : parts.Length == 2 ? (parts[0], parts[1]) : (parts[0], null);
                if (name != "None")
                {
                    draft.AddLora(name, GenerationJson.ParseDouble(weight));
                }
            }
        }
    }

    /// <summary>"(1152, 896)", as Fooocus writes str((width, height)).</summary>
    private static void ReadResolution(string resolution, GenerationDraft draft)
    {
        var parts = resolution.Trim().TrimStart('(', '[').TrimEnd(')', ']').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 &&
            int.TryParse(parts[0].Trim('\'', '"'), NumberStyles.None, CultureInfo.InvariantCulture, out var width) &&
            int.TryParse(parts[1].Trim('\'', '"'), NumberStyles.None, CultureInfo.InvariantCulture, out var height))
        {
            draft.Width = width;
            draft.Height = height;
        }
        else
        {
            draft.Warn($"resolution: {GenerationJson.Short(resolution)} is not (width, height)");
        }
    }

    private static string? Pick(JsonElement root, string key, string label) => GenerationJson.String(root, key) ?? GenerationJson.String(root, label);

    private static JsonElement? Number(JsonElement root, string key, string label) =>
        GenerationJson.TryGet(root, key, out var value) || GenerationJson.TryGet(root, label, out value) ? value : null;
}
