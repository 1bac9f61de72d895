using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Converts ComfyUI's UI ("workflow") shape into a <see cref="ComfyGraph"/>: <c>nodes</c> with
/// positional <c>widgets_values</c> and typed input slots, and <c>links</c> as
/// <c>[id, from node, from slot, to node, to slot, type]</c> (or the newer object form).
/// </summary>
/// <remarks>
/// Widget values carry no names, so they are named from a table of the core nodes' input order
/// (ComfyUI's <c>nodes.py</c> and <c>comfy_extras/nodes_custom_sampler.py</c>), with a slot for
/// the frontend's extra <c>control_after_generate</c> value after a seed. A node of another type keeps
/// its widgets only when they are a name→value object, or its first text when it is a text node.
/// Muted nodes (mode 2) are dropped; links through bypassed nodes (mode 4) and Reroutes are followed
/// to what feeds them, as ComfyUI does when it builds the prompt.
/// </remarks>
internal static class ComfyWorkflowReader
{
    private const int ModeMuted = 2;
    private const int ModeBypassed = 4;
    private const string Control = "\0control";

    private static readonly Dictionary<string, string[]> WidgetNames = new(StringComparer.Ordinal)
    {
        ["KSampler"] = ["seed", Control, "steps", "cfg", "sampler_name", "scheduler", "denoise"],
        ["KSamplerAdvanced"] = ["add_noise", "noise_seed", Control, "steps", "cfg", "sampler_name", "scheduler", "start_at_step", "end_at_step", "return_with_leftover_noise"],
        ["SamplerCustom"] = ["add_noise", "noise_seed", Control, "cfg"],
        ["RandomNoise"] = ["noise_seed", Control],
        ["CFGGuider"] = ["cfg"],
        ["KSamplerSelect"] = ["sampler_name"],
        ["BasicScheduler"] = ["scheduler", "steps", "denoise"],
        ["KarrasScheduler"] = ["steps", "sigma_max", "sigma_min", "rho"],
        ["ExponentialScheduler"] = ["steps", "sigma_max", "sigma_min"],
        ["SDTurboScheduler"] = ["steps", "denoise"],
        ["AlignYourStepsScheduler"] = ["model_type", "steps", "denoise"],
        ["CLIPTextEncode"] = ["text"],
        ["CLIPTextEncodeSDXL"] = ["width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g", "text_l"],
        ["CLIPTextEncodeSDXLRefiner"] = ["ascore", "width", "height", "text"],
        ["CLIPTextEncodeFlux"] = ["clip_l", "t5xxl", "guidance"],
        ["CLIPTextEncodeSD3"] = ["clip_l", "clip_g", "t5xxl", "empty_padding"],
        ["CheckpointLoaderSimple"] = ["ckpt_name"],
        ["CheckpointLoader"] = ["config_name", "ckpt_name"],
        ["UNETLoader"] = ["unet_name", "weight_dtype"],
        ["UnetLoaderGGUF"] = ["unet_name"],
        ["LoraLoader"] = ["lora_name", "strength_model", "strength_clip"],
        ["LoraLoaderModelOnly"] = ["lora_name", "strength_model"],
        ["VAELoader"] = ["vae_name"],
        ["EmptyLatentImage"] = ["width", "height", "batch_size"],
        ["EmptySD3LatentImage"] = ["width", "height", "batch_size"],
        ["CLIPSetLastLayer"] = ["stop_at_clip_layer"],
        ["LatentUpscale"] = ["upscale_method", "width", "height", "crop"],
        ["LatentUpscaleBy"] = ["upscale_method", "scale_by"],
        ["UpscaleModelLoader"] = ["model_name"],
        ["FluxGuidance"] = ["guidance"],
        ["PrimitiveNode"] = ["value", Control],
        ["PrimitiveInt"] = ["value", Control],
        ["PrimitiveFloat"] = ["value"],
        ["PrimitiveString"] = ["value"],
        ["PrimitiveStringMultiline"] = ["value"],
    };

    public static ComfyGraph? Read(JsonElement root, GenerationDraft draft)
    {
        if (!GenerationJson.TryGet(root, "nodes", out var nodes) || nodes.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var raw = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var node in nodes.EnumerateArray())
        {
            if (raw.Count >= ComfyGraph.MaxNodes)
            {
                draft.Warn($"workflow: more than {ComfyGraph.MaxNodes} nodes; the rest were ignored");
                break;
            }

            if (GenerationJson.TryGet(node, "id", out var id) && GenerationJson.AsString(id) is { } key)
            {
                raw.TryAdd(key, node);
            }
        }

        var links = Links(root);
        var graph = new ComfyGraph();
        foreach (var (id, node) in raw)
        {
            var type = GenerationJson.String(node, "type");
            if (type is null || Mode(node) is ModeMuted or ModeBypassed || type == "Reroute")
            {
                continue;
            }

            var converted = new ComfyGraph.Node(id, type);
            AddWidgets(node, converted);
            if (GenerationJson.TryGet(node, "inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Array)
            {
                foreach (var input in inputs.EnumerateArray())
                {
                    if (GenerationJson.String(input, "name") is { } name &&
                        GenerationJson.TryGet(input, "link", out var link) && link.TryGetInt64(out var linkId) &&
                        Origin(linkId, links, raw, 0) is { } origin)
                    {
                        converted.Inputs[name] = ComfyGraph.Input.To(origin.Node, origin.Slot);
                    }
                }
            }

            graph.Nodes[id] = converted;
        }

        return graph.Nodes.Count > 0 ? graph : null;
    }

    private static int Mode(JsonElement node) =>
        GenerationJson.TryGet(node, "mode", out var mode) && mode.ValueKind == JsonValueKind.Number && mode.TryGetInt32(out var value) ? value : 0;

    private static Dictionary<long, (string Node, int Slot, string? Type)> Links(JsonElement root)
    {
        var result = new Dictionary<long, (string, int, string?)>();
        if (!GenerationJson.TryGet(root, "links", out var links) || links.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var link in links.EnumerateArray())
        {
            if (link.ValueKind == JsonValueKind.Array && link.GetArrayLength() >= 3 &&
                link[0].TryGetInt64(out var id) && GenerationJson.AsString(link[1]) is { } origin && link[2].TryGetInt32(out var slot))
            {
                result.TryAdd(id, (origin, slot, link.GetArrayLength() >= 6 ? GenerationJson.AsString(link[5]) : null));
            }
            else if (link.ValueKind == JsonValueKind.Object &&
                     GenerationJson.TryGet(link, "id", out var idValue) && idValue.TryGetInt64(out id) &&
                     GenerationJson.String(link, "origin_id") is { } originId &&
                     GenerationJson.TryGet(link, "origin_slot", out var slotValue) && slotValue.TryGetInt32(out slot))
            {
                result.TryAdd(id, (originId, slot, GenerationJson.String(link, "type")));
            }
        }

        return result;
    }

    /// <summary>Where a link really comes from: through a Reroute to its input, through a bypassed node to its input of the link's type.</summary>
    private static (string Node, int Slot)? Origin(long linkId, Dictionary<long, (string Node, int Slot, string? Type)> links, Dictionary<string, JsonElement> nodes, int depth)
    {
        if (depth > 32 || !links.TryGetValue(linkId, out var link) || !nodes.TryGetValue(link.Node, out var origin))
        {
            return null;
        }

        var type = GenerationJson.String(origin, "type");
        var passThrough = type == "Reroute" || Mode(origin) == ModeBypassed;
        if (!passThrough)
        {
            return Mode(origin) == ModeMuted ? null : (link.Node, link.Slot);
        }

        if (!GenerationJson.TryGet(origin, "inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var input in inputs.EnumerateArray())
        {
            var inputType = GenerationJson.String(input, "type");
            var matches = type == "Reroute" || link.Type is null || inputType is null || string.Equals(inputType, link.Type, StringComparison.OrdinalIgnoreCase);
            if (matches && GenerationJson.TryGet(input, "link", out var next) && next.TryGetInt64(out var nextId))
            {
                return Origin(nextId, links, nodes, depth + 1);
            }
        }

        return null;
    }

    private static void AddWidgets(JsonElement node, ComfyGraph.Node converted)
    {
        if (!GenerationJson.TryGet(node, "widgets_values", out var values))
        {
            return;
        }

        if (values.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in values.EnumerateObject())
            {
                converted.Inputs[property.Name] = ComfyGraph.Input.Literal(property.Value);
            }

            return;
        }

        if (values.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        if (WidgetNames.TryGetValue(converted.Type, out var names))
        {
            var count = values.GetArrayLength();
            // Workflows saved before the frontend stored control_after_generate lack that slot.
            var withoutControl = count < names.Length ? names.Where(n => n != Control).ToArray() : names;
            for (var i = 0; i < withoutControl.Length && i < count; i++)
            {
                if (withoutControl[i] != Control)
                {
                    converted.Inputs[withoutControl[i]] = ComfyGraph.Input.Literal(values[i]);
                }
            }
        }
        else if (IsTextNode(converted.Type))
        {
            foreach (var value in values.EnumerateArray())
            {
                if (value.ValueKind == JsonValueKind.String)
                {
                    converted.Inputs["text"] = ComfyGraph.Input.Literal(value);
                    break;
                }
            }
        }
    }

    private static bool IsTextNode(string type) =>
        type.Contains("Text", StringComparison.OrdinalIgnoreCase) || type.Contains("String", StringComparison.OrdinalIgnoreCase) ||
        type.Contains("Prompt", StringComparison.OrdinalIgnoreCase);
}
