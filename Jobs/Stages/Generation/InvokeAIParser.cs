using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Reads InvokeAI's <c>invokeai_metadata</c> chunk, the output of its core_metadata node
/// (<c>invokeai/app/invocations/metadata.py</c>): positive_prompt, negative_prompt, width, height,
/// seed, cfg_scale, steps, scheduler, clip_skip, strength, model / vae / loras as model identifiers
/// (<c>{"name", "hash"}</c> from 4.x, <c>{"model_name"}</c> in 3.x) and app_version.
/// </summary>
/// <remarks>InvokeAI's "scheduler" names a sampling method ("dpmpp_2m_k", "euler_a"), so it is read as the sampler.</remarks>
internal static class InvokeAIParser
{
    public static void Read(JsonElement root, GenerationDraft draft)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            draft.Warn("invokeai_metadata: not a JSON object");
            return;
        }

        draft.Prompt = GenerationJson.String(root, "positive_prompt");
        draft.NegativePrompt = GenerationJson.String(root, "negative_prompt");
        draft.Width = GenerationJson.Int(root, "width", draft);
        draft.Height = GenerationJson.Int(root, "height", draft);
        draft.Seed = GenerationJson.Long(root, "seed", draft);
        draft.CfgScale = GenerationJson.Double(root, "cfg_scale", draft);
        draft.Steps = GenerationJson.Int(root, "steps", draft);
        draft.Sampler = GenerationJson.String(root, "scheduler");
        draft.ClipSkip = GenerationJson.Int(root, "clip_skip", draft);
        draft.Denoise = GenerationJson.Double(root, "strength", draft);
        if (GenerationJson.TryGet(root, "model", out var model))
        {
            draft.Model = ModelName(model);
            draft.ModelHash = GenerationJson.String(model, "hash");
        }

        if (GenerationJson.TryGet(root, "vae", out var vae))
        {
            draft.Vae = ModelName(vae);
        }

        if (GenerationJson.TryGet(root, "hrf_enabled", out var hrf) && hrf.ValueKind == JsonValueKind.True)
        {
            draft.HiresUpscaler = GenerationJson.String(root, "hrf_method");
        }

        if (GenerationJson.TryGet(root, "loras", out var loras) && loras.ValueKind == JsonValueKind.Array)
        {
            foreach (var lora in loras.EnumerateArray())
            {
                var identifier = GenerationJson.TryGet(lora, "model", out var m) ? m : GenerationJson.TryGet(lora, "lora", out var l) ? l : default;
                draft.AddLora(ModelName(identifier), GenerationJson.Double(lora, "weight", draft), GenerationJson.String(identifier, "hash"));
            }
        }

        draft.Version = GenerationJson.String(root, "app_version") is { } version ? $"InvokeAI {version}" : "InvokeAI";
    }

    /// <summary>A model identifier's name: "name" (4.x), "model_name" (3.x), or a bare string.</summary>
    private static string? ModelName(JsonElement identifier) =>
        identifier.ValueKind == JsonValueKind.String
            ? identifier.GetString()
            : GenerationJson.String(identifier, "name") ?? GenerationJson.String(identifier, "model_name");
}
