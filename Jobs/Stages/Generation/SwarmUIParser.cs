using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Reads SwarmUI's metadata (its <c>docs/Image Metadata Format.md</c>): a JSON object whose
/// <c>sui_image_params</c> holds parameters by id (prompt, negativeprompt, model, seed, steps, cfgscale,
/// width, height, sampler, scheduler, vae, loras with loraweights, clipstoplayer, initimagecreativity,
/// refinerupscale, swarm_version), values sometimes as strings, lists sometimes comma-separated;
/// <c>sui_models</c>, when present, gives the model and LoRA hashes.
/// </summary>
internal static class SwarmUIParser
{
    /// <summary>Reads from the whole metadata object, or from a bare parameters object (a <c>sui_image_params</c> chunk).</summary>
    public static void Read(JsonElement root, GenerationDraft draft)
    {
        var parameters = GenerationJson.TryGet(root, "sui_image_params", out var nested) ? nested : root;
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            draft.Warn("swarmui: sui_image_params is not an object");
            return;
        }

        draft.Prompt = GenerationJson.String(parameters, "prompt");
        draft.NegativePrompt = GenerationJson.String(parameters, "negativeprompt");
        draft.Model = GenerationJson.String(parameters, "model");
        draft.Seed = GenerationJson.Long(parameters, "seed", draft);
        draft.Steps = GenerationJson.Int(parameters, "steps", draft);
        draft.CfgScale = GenerationJson.Double(parameters, "cfgscale", draft);
        draft.Width = GenerationJson.Int(parameters, "width", draft);
        draft.Height = GenerationJson.Int(parameters, "height", draft);
        draft.Sampler = GenerationJson.String(parameters, "sampler");
        draft.Scheduler = GenerationJson.String(parameters, "scheduler");
        draft.Vae = GenerationJson.String(parameters, "vae");
        draft.Denoise = GenerationJson.Double(parameters, "initimagecreativity", draft);
        draft.HiresUpscale = GenerationJson.Double(parameters, "refinerupscale", draft);
        draft.HiresUpscaler = GenerationJson.String(parameters, "refinerupscalemethod");
        if (GenerationJson.Int(parameters, "clipstoplayer", draft) is { } stop)
        {
            draft.ClipSkip = Math.Abs(stop);
        }

        draft.Version = GenerationJson.String(parameters, "swarm_version") is { } version ? $"SwarmUI {version}" : "SwarmUI";

        var models = GenerationJson.TryGet(root, "sui_models", out var list) && list.ValueKind == JsonValueKind.Array ? list : default;
        draft.ModelHash = Hash(models, "model", draft.Model);
        var names = List(parameters, "loras");
        var weights = List(parameters, "loraweights");
        for (var i = 0; i < names.Count; i++)
        {
            draft.AddLora(names[i], i < weights.Count ? GenerationJson.ParseDouble(weights[i]) : null, Hash(models, "loras", names[i]));
        }
    }

    /// <summary>A JSON list, or a comma-separated string, of values.</summary>
    private static List<string> List(JsonElement parameters, string name)
    {
        if (!GenerationJson.TryGet(parameters, name, out var value))
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            return value.EnumerateArray().Select(GenerationJson.AsString).OfType<string>().ToList();
        }

        return GenerationJson.AsString(value)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList() ?? [];
    }

    /// <summary>The hash sui_models gives the entry of <paramref name="param"/> whose file is <paramref name="name"/> (which omits the extension).</summary>
    private static string? Hash(JsonElement models, string param, string? name)
    {
        if (name is null || models.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var model in models.EnumerateArray())
        {
            if (GenerationJson.String(model, "param") == param && GenerationJson.String(model, "name") is { } file &&
                (string.Equals(file, name, StringComparison.OrdinalIgnoreCase) || string.Equals(WithoutExtension(file), name, StringComparison.OrdinalIgnoreCase)))
            {
                return GenerationJson.String(model, "hash");
            }
        }

        return null;
    }

    private static string WithoutExtension(string file)
    {
        var dot = file.LastIndexOf('.');
        return dot > Math.Max(file.LastIndexOf('/'), 0) ? file[..dot] : file;
    }
}
