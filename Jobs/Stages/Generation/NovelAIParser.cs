using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Reads NovelAI's PNG text: <c>Software</c> "NovelAI", the prompt in <c>Description</c>, the model in
/// <c>Source</c> ("NovelAI Diffusion V4.5 4BDE2A90"), and a <c>Comment</c> JSON with prompt, uc (the
/// negative), steps, scale, seed, sampler, noise_schedule, width, height, strength, and from V4 on
/// v4_prompt / v4_negative_prompt captions. The fields are the ones A1111's <c>read_info_from_image</c> reads.
/// </summary>
internal static class NovelAIParser
{
    public static bool Recognises(IReadOnlyDictionary<string, string> chunks, JsonElement? comment) =>
        string.Equals(chunks.GetValueOrDefault("Software")?.Trim(), "NovelAI", StringComparison.OrdinalIgnoreCase) ||
        (comment is { ValueKind: JsonValueKind.Object } c && (c.TryGetProperty("uc", out _) || c.TryGetProperty("v4_prompt", out _)));

    public static void Read(IReadOnlyDictionary<string, string> chunks, JsonElement? comment, GenerationDraft draft)
    {
        draft.Prompt = chunks.GetValueOrDefault("Description");
        draft.Model = chunks.GetValueOrDefault("Source");
        draft.Version = chunks.GetValueOrDefault("Software") ?? "NovelAI";
        if (comment is not { ValueKind: JsonValueKind.Object } json)
        {
            draft.Warn("novelai: no Comment settings");
            return;
        }

        // V4 leaves "prompt" empty and puts the text in the captions.
        draft.Prompt = GenerationDraft.Text(draft.Prompt) ?? GenerationDraft.Text(GenerationJson.String(json, "prompt")) ?? Caption(json, "v4_prompt");
        draft.NegativePrompt = GenerationDraft.Text(GenerationJson.String(json, "uc")) ?? Caption(json, "v4_negative_prompt") ?? GenerationJson.String(json, "negative_prompt");
        draft.Steps = GenerationJson.Int(json, "steps", draft);
        draft.CfgScale = GenerationJson.Double(json, "scale", draft);
        draft.Seed = GenerationJson.Long(json, "seed", draft);
        draft.Sampler = GenerationJson.String(json, "sampler");
        draft.Scheduler = GenerationJson.String(json, "noise_schedule");
        draft.Width = GenerationJson.Int(json, "width", draft);
        draft.Height = GenerationJson.Int(json, "height", draft);
        draft.Denoise = GenerationJson.Double(json, "strength", draft);
    }

    private static string? Caption(JsonElement json, string name) =>
        GenerationJson.TryGet(json, name, out var prompt) && GenerationJson.TryGet(prompt, "caption", out var caption)
            ? GenerationJson.String(caption, "base_caption")
            : null;
}
