using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Reads the generation settings out of a <see cref="ComfyGraph"/> by following links from the final
/// sampler: to its model (through LoRA loaders and model patches to the checkpoint or UNet loader), to its
/// positive and negative conditioning (through conditioning nodes to the text encoders, and their text
/// through primitive and string nodes), to its latent (back to the empty latent's size, noting a hires
/// pass on the way), and, for the custom samplers, to their noise, guider, sampler and sigmas nodes.
/// </summary>
/// <remarks>
/// The final sampler is the one no other sampler consumes; if several remain, the one feeding an
/// image-saving node, then the last listed. Every walk is bounded and remembers what it visited, so a
/// cyclic or hostile graph ends the walk instead of the process.
/// </remarks>
internal sealed class ComfyGraphReader(ComfyGraph graph, GenerationDraft draft)
{
    private const int MaxDepth = 48;

    private static readonly string[] TextKeys = ["populated_text", "text", "t5xxl", "text_g", "clip_g", "prompt", "clip_l", "text_l", "string", "value"];
    private static readonly string[] ScalarKeys = ["value", "seed", "noise_seed", "int", "float", "number"];
    private static readonly string[] LatentKeys = ["latent_image", "samples", "latent", "pixels", "image", "images"];

    public static void Read(ComfyGraph graph, GenerationDraft draft) => new ComfyGraphReader(graph, draft).Read();

    private void Read()
    {
        var samplers = graph.Nodes.Values.Where(IsSampler).ToList();
        draft.Samplers = samplers.Count;
        if (samplers.Count == 0)
        {
            // No sampler to follow: keep the old reading, the first text encoder's text, so the prompt is not lost.
            draft.Warn("comfyui: the graph has no sampler node; the prompt is the first text encoder's text");
            draft.Prompt = graph.Nodes.Values.Where(IsTextEncoder).Select(n => EncoderText(n, 0)).FirstOrDefault(t => t is not null);
            return;
        }

        var final = FinalSampler(samplers);
        var guider = Follow(final, "guider");
        var noise = Follow(final, "noise");
        var sampler = Follow(final, "sampler");
        var sigmas = Follow(final, "sigmas");

        draft.Seed = Long(final, "seed") ?? Long(final, "noise_seed") ?? (noise is null ? null : Long(noise, "noise_seed"));
        draft.Steps = Int(final, "steps") ?? (sigmas is null ? null : Int(sigmas, "steps"));
        draft.CfgScale = Double(final, "cfg") ?? (guider is null ? null : Double(guider, "cfg"));
        draft.Sampler = Text(final, "sampler_name") ?? (sampler is null ? null : Text(sampler, "sampler_name") ?? sampler.Type);
        draft.Scheduler = Text(final, "scheduler") ?? (sigmas is null ? null : Text(sigmas, "scheduler") ?? SchedulerName(sigmas.Type));
        draft.Denoise = Double(final, "denoise") ?? (sigmas is null ? null : Double(sigmas, "denoise"));

        var conditioned = guider ?? final;
        var positive = Input(conditioned, "positive") ?? Input(conditioned, "conditioning") ?? Input(conditioned, "cond1");
        var negative = Input(conditioned, "negative");
        draft.Prompt = positive is { } p ? ConditioningText(p, 0, new HashSet<string>(StringComparer.Ordinal)) : null;
        draft.NegativePrompt = negative is { } n ? ConditioningText(n, 0, new HashSet<string>(StringComparer.Ordinal)) : null;

        ReadModel(Input(final, "model") ?? (guider is null ? null : Input(guider, "model")));
        ReadLatent(final);
        ReadVae(final);
    }

    /// <summary>A node that samples latents: the core samplers, or any "…Sampler…" node fed a latent and a model or conditioning.</summary>
    private static bool IsSampler(ComfyGraph.Node node) =>
        node.Type is "KSampler" or "KSamplerAdvanced" or "SamplerCustom" or "SamplerCustomAdvanced" ||
        (node.Type.Contains("Sampler", StringComparison.OrdinalIgnoreCase) &&
         node.Inputs.TryGetValue("latent_image", out var latent) && latent.Link is not null &&
         (node.Has("positive") || node.Has("guider") || node.Has("model")));

    private static bool IsTextEncoder(ComfyGraph.Node node) =>
        node.Type.Contains("TextEncode", StringComparison.OrdinalIgnoreCase) || node.Type.StartsWith("CLIPText", StringComparison.OrdinalIgnoreCase);

    private ComfyGraph.Node FinalSampler(List<ComfyGraph.Node> samplers)
    {
        if (samplers.Count == 1)
        {
            return samplers[0];
        }

        var consumed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sampler in samplers)
        {
            foreach (var ancestor in Ancestors(sampler))
            {
                consumed.Add(ancestor);
            }
        }

        var finals = samplers.Where(s => !consumed.Contains(s.Id)).ToList();
        if (finals.Count == 0)
        {
            draft.Warn("comfyui: the samplers feed each other in a loop; the last one listed was read");
            return samplers[^1];
        }

        if (finals.Count > 1)
        {
            var saved = new HashSet<string>(StringComparer.Ordinal);
            foreach (var output in graph.Nodes.Values.Where(n => n.Type.Contains("Save", StringComparison.OrdinalIgnoreCase)))
            {
                saved.UnionWith(Ancestors(output));
            }

            var savedFinals = finals.Where(s => saved.Contains(s.Id)).ToList();
            if (savedFinals.Count > 0)
            {
                finals = savedFinals;
            }

            if (finals.Count > 1)
            {
                draft.Warn($"comfyui: {finals.Count} final samplers; the last one listed was read");
            }
        }

        return finals[^1];
    }

    /// <summary>Every node upstream of <paramref name="node"/>, breadth first, each once.</summary>
    private HashSet<string> Ancestors(ComfyGraph.Node node)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<ComfyGraph.Node>();
        queue.Enqueue(node);
        while (queue.Count > 0)
        {
            foreach (var input in queue.Dequeue().Inputs.Values)
            {
                if (graph.Source(input) is { } source && seen.Add(source.Id))
                {
                    queue.Enqueue(source);
                }
            }
        }

        return seen;
    }

    private string? ConditioningText(ComfyGraph.Input input, int depth, HashSet<string> visited)
    {
        if (depth > MaxDepth || graph.Source(input) is not { } node || !visited.Add(node.Id))
        {
            return null;
        }

        if (IsTextEncoder(node) || TextKeys.Any(k => node.Inputs.TryGetValue(k, out var v) && v.Link is null && v.Value.ValueKind == JsonValueKind.String))
        {
            ReadClipSkip(node);
            return EncoderText(node, depth);
        }

        if (node.IsType("ConditioningZeroOut"))
        {
            return null;
        }

        // Nodes that carry both (ControlNetApplyAdvanced, InpaintModelConditioning): slot 0 is positive, 1 negative.
        if (node.Has("positive") && node.Has("negative"))
        {
            return ConditioningText(node.Inputs[input.Slot == 1 ? "negative" : "positive"], depth + 1, visited);
        }

        var texts = node.Inputs
            .Where(i => i.Value.Link is not null && (i.Key.Contains("cond", StringComparison.OrdinalIgnoreCase) || i.Key == "positive"))
            .Select(i => ConditioningText(i.Value, depth + 1, visited))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (texts.Count > 0)
        {
            return string.Join('\n', texts);
        }

        // An unknown pass-through: follow its first link.
        var first = node.Inputs.Values.FirstOrDefault(i => i.Link is not null);
        return first.Link is null ? null : ConditioningText(first, depth + 1, visited);
    }

    /// <summary>The text a text encoder (or text node) holds: its text inputs, links to string nodes resolved, distinct ones joined by newlines.</summary>
    private string? EncoderText(ComfyGraph.Node node, int depth)
    {
        var texts = new List<string>();
        foreach (var key in TextKeys)
        {
            if (node.Inputs.TryGetValue(key, out var input) && StringValue(input, depth + 1) is { } text &&
                !string.IsNullOrWhiteSpace(text) && !texts.Contains(text, StringComparer.Ordinal))
            {
                texts.Add(text);
            }
        }

        return texts.Count == 0 ? null : string.Join('\n', texts);
    }

    /// <summary>A string input: a literal, or a link to a primitive, string or concatenation node.</summary>
    private string? StringValue(ComfyGraph.Input input, int depth)
    {
        if (input.Link is null)
        {
            return input.Value.ValueKind == JsonValueKind.String ? input.Value.GetString() : null;
        }

        if (depth > MaxDepth || graph.Source(input) is not { } node)
        {
            return null;
        }

        if (node.Type.Contains("Concat", StringComparison.OrdinalIgnoreCase))
        {
            var delimiter = node.Inputs.TryGetValue("delimiter", out var d) || node.Inputs.TryGetValue("separator", out d)
                ? StringValue(d, depth + 1) ?? ""
                : "";
            var parts = node.Inputs
                .Where(i => i.Key.StartsWith("text", StringComparison.Ordinal) || i.Key.StartsWith("string", StringComparison.Ordinal))
                .Select(i => StringValue(i.Value, depth + 1))
                .Where(t => !string.IsNullOrEmpty(t));
            return string.Join(delimiter, parts);
        }

        return EncoderText(node, depth);
    }

    private void ReadClipSkip(ComfyGraph.Node encoder)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var node = Follow(encoder, "clip");
        while (draft.ClipSkip is null && node is not null && visited.Count < MaxDepth && visited.Add(node.Id))
        {
            if (node.IsType("CLIPSetLastLayer") && Int(node, "stop_at_clip_layer") is { } layer)
            {
                draft.ClipSkip = Math.Abs(layer);
            }

            node = Follow(node, "clip");
        }
    }

    /// <summary>Walks the MODEL chain to its loader, collecting LoRA loaders on the way (listed checkpoint-side first).</summary>
    private void ReadModel(ComfyGraph.Input? start)
    {
        var loras = new List<(string Name, double? Weight)>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var node = start is { } input ? graph.Source(input) : null;
        while (node is not null && visited.Count < MaxDepth && visited.Add(node.Id))
        {
            if ((Text(node, "ckpt_name") ?? Text(node, "unet_name") ?? Text(node, "model_path")) is { } model)
            {
                draft.Model = model;
                break;
            }

            if (Text(node, "lora_name") is { } lora)
            {
                loras.Add((lora, Double(node, "strength_model")));
            }

            // rgthree's Power Lora Loader: lora_1 = {"on": true, "lora": "x.safetensors", "strength": 1}.
            foreach (var (_, value) in node.Inputs.Where(i => i.Key.StartsWith("lora_", StringComparison.Ordinal) && i.Value.Value.ValueKind == JsonValueKind.Object))
            {
                var slot = value.Value;
                var on = !GenerationJson.TryGet(slot, "on", out var enabled) || enabled.ValueKind != JsonValueKind.False;
                if (on && GenerationJson.String(slot, "lora") is { } name && name != "None")
                {
                    loras.Add((name, GenerationJson.Double(slot, "strength", draft)));
                }
            }

            if (Text(node, "model_name") is { } named && !node.Type.Contains("Upscale", StringComparison.OrdinalIgnoreCase) && !node.Has("model"))
            {
                draft.Model = named;
                break;
            }

            node = Follow(node, "model") ?? node.Inputs
                .Where(i => i.Key.Contains("model", StringComparison.OrdinalIgnoreCase) && i.Value.Link is not null)
                .Select(i => graph.Source(i.Value))
                .FirstOrDefault(n => n is not null);
        }

        for (var i = loras.Count - 1; i >= 0; i--)
        {
            draft.AddLora(loras[i].Name, loras[i].Weight);
        }
    }

    /// <summary>Back from the sampler's latent to the empty latent that sized it; a sampler on the way means this was a second (hires) pass.</summary>
    private void ReadLatent(ComfyGraph.Node final)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal) { final.Id };
        var node = Follow(final, "latent_image");
        double? scale = null;
        int? targetWidth = null;
        string? upscaler = null;
        var secondPass = false;
        var upscaledByModel = false;
        while (node is not null && visited.Count < MaxDepth && visited.Add(node.Id))
        {
            if (node.Type.Contains("Latent", StringComparison.OrdinalIgnoreCase) && node.Type.Contains("Empty", StringComparison.OrdinalIgnoreCase))
            {
                draft.Width = Int(node, "width");
                draft.Height = Int(node, "height");
                break;
            }

            if (IsSampler(node))
            {
                secondPass = true;
            }
            else if (!secondPass)
            {
                if (node.Has("scale_by"))
                {
                    scale ??= Double(node, "scale_by");
                    upscaler ??= Text(node, "upscale_method");
                }
                else if (node.IsType("LatentUpscale"))
                {
                    targetWidth ??= Int(node, "width");
                    upscaler ??= Text(node, "upscale_method");
                }

                if (Follow(node, "upscale_model") is { } model && Text(model, "model_name") is { } modelName)
                {
                    upscaler = modelName;
                    upscaledByModel = true;
                }
            }

            node = LatentKeys.Select(k => Follow(node, k)).FirstOrDefault(n => n is not null);
        }

        if (secondPass)
        {
            // An upscale model named "4x-…" multiplies whatever ImageScaleBy does after it.
            var modelFactor = upscaledByModel ? ModelFactor(upscaler!) : null;
            draft.HiresUpscale = modelFactor is { } m ? m * (scale ?? 1)
                : scale ?? (targetWidth is { } w && draft.Width is > 0 ? Math.Round((double)w / draft.Width.Value, 3) : null);
            draft.HiresUpscaler = upscaler;
        }
    }

    /// <summary>The VAE that decodes the final sampler's output, when it is a separate loader; otherwise the graph's only VAE loader.</summary>
    private void ReadVae(ComfyGraph.Node final)
    {
        var decoder = graph.Nodes.Values.FirstOrDefault(n =>
            n.Type.StartsWith("VAEDecode", StringComparison.Ordinal) && n.Inputs.TryGetValue("samples", out var s) && s.Link == final.Id);
        if (decoder is not null && Follow(decoder, "vae") is { } vae && Text(vae, "vae_name") is { } name)
        {
            draft.Vae = name;
            return;
        }

        var loaders = graph.Nodes.Values.Where(n => n.Has("vae_name")).Take(2).ToList();
        if (loaders.Count == 1)
        {
            draft.Vae = Text(loaders[0], "vae_name");
        }
    }

    /// <summary>The factor an upscale model's name states, as in "4x-UltraSharp.pth" or "RealESRGAN_x2.pth"; null for a latent method name.</summary>
    private static double? ModelFactor(string name)
    {
        var file = Path.GetFileName(name);
        if (file.Length > 1 && char.IsAsciiDigit(file[0]) && (file[1] is 'x' or 'X'))
        {
            return file[0] - '0';
        }

        var at = file.IndexOf("_x", StringComparison.OrdinalIgnoreCase);
        return at >= 0 && at + 2 < file.Length && char.IsAsciiDigit(file[at + 2]) ? file[at + 2] - '0' : null;
    }

    /// <summary>"KarrasScheduler" reads as "karras"; a custom sigmas node without a scheduler input is named by its type.</summary>
    private static string SchedulerName(string type) =>
        type.EndsWith("Scheduler", StringComparison.Ordinal) && type.Length > "Scheduler".Length
            ? type[..^"Scheduler".Length].ToLowerInvariant()
            : type;

    private ComfyGraph.Node? Follow(ComfyGraph.Node node, string input) =>
        node.Inputs.TryGetValue(input, out var value) ? graph.Source(value) : null;

    private static ComfyGraph.Input? Input(ComfyGraph.Node node, string name) =>
        node.Inputs.TryGetValue(name, out var value) ? value : null;

    /// <summary>A scalar input's value: a literal, or, through links, the literal of a primitive or seed node.</summary>
    private JsonElement? Scalar(ComfyGraph.Node node, string name)
    {
        if (!node.Inputs.TryGetValue(name, out var input))
        {
            return null;
        }

        for (var depth = 0; depth < MaxDepth; depth++)
        {
            if (input.Link is null)
            {
                return input.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : input.Value;
            }

            if (graph.Source(input) is not { } source)
            {
                return null;
            }

            var key = source.Has(name) ? name : ScalarKeys.FirstOrDefault(source.Has);
            if (key is null)
            {
                return null;
            }

            input = source.Inputs[key];
        }

        return null;
    }

    private string? Text(ComfyGraph.Node node, string name) => Scalar(node, name) is { } value ? GenerationJson.AsString(value) : null;

    private int? Int(ComfyGraph.Node node, string name) => Scalar(node, name) is { } value ? GenerationJson.AsInt(value, name, draft) : null;

    private long? Long(ComfyGraph.Node node, string name) => Scalar(node, name) is { } value ? GenerationJson.AsLong(value, name, draft) : null;

    private double? Double(ComfyGraph.Node node, string name) => Scalar(node, name) is { } value ? GenerationJson.AsDouble(value, name, draft) : null;
}
