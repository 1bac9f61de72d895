using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// A ComfyUI graph in the API ("prompt") shape: nodes by id, each with a class type and named inputs
/// that are either literal values or links to another node's output slot. The UI ("workflow") shape
/// is converted into this one by <see cref="ComfyWorkflowReader"/>, so one walker reads both.
/// </summary>
/// <remarks>The literals are elements of the caller's <see cref="JsonDocument"/>: use the graph only while it is alive.</remarks>
internal sealed class ComfyGraph
{
    /// <summary>Nodes past this many are ignored (with a warning); real graphs have tens to a few hundred.</summary>
    public const int MaxNodes = 5000;

    public Dictionary<string, Node> Nodes { get; } = new(StringComparer.Ordinal);

    /// <summary>The node an input links to, or null for a literal or a dangling link.</summary>
    public Node? Source(Input input) => input.Link is { } id ? Nodes.GetValueOrDefault(id) : null;

    /// <summary>Reads the API shape: <c>{"3": {"class_type": "KSampler", "inputs": {"seed": 1, "model": ["4", 0]}}}</c>; null when nothing in it is a node.</summary>
    public static ComfyGraph? FromPrompt(JsonElement root, GenerationDraft draft)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var graph = new ComfyGraph();
        foreach (var property in root.EnumerateObject())
        {
            if (graph.Nodes.Count >= MaxNodes)
            {
                draft.Warn($"prompt: more than {MaxNodes} nodes; the rest were ignored");
                break;
            }

            if (!GenerationJson.TryGet(property.Value, "class_type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            var node = new Node(property.Name, type.GetString()!);
            if (GenerationJson.TryGet(property.Value, "inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Object)
            {
                foreach (var input in inputs.EnumerateObject())
                {
                    node.Inputs[input.Name] = TryLink(input.Value, out var id, out var slot) ? Input.To(id, slot) : Input.Literal(input.Value);
                }
            }

            graph.Nodes[node.Id] = node;
        }

        return graph.Nodes.Count > 0 ? graph : null;
    }

    /// <summary>ComfyUI's link form in the API shape: a two-element array of node id (string, sometimes a number) and output slot.</summary>
    private static bool TryLink(JsonElement value, out string id, out int slot)
    {
        id = "";
        slot = 0;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2)
        {
            return false;
        }

        var node = value[0];
        var output = value[1];
        if (output.ValueKind != JsonValueKind.Number || !output.TryGetInt32(out slot))
        {
            return false;
        }

        switch (node.ValueKind)
        {
            case JsonValueKind.String:
                id = node.GetString()!;
                return true;
            case JsonValueKind.Number when node.TryGetInt64(out _):
                id = node.GetRawText();
                return true;
            default:
                return false;
        }
    }

    /// <summary>One node: its id, its class type, its inputs by name.</summary>
    internal sealed class Node(string id, string type)
    {
        public string Id { get; } = id;

        public string Type { get; } = type;

        public Dictionary<string, Input> Inputs { get; } = new(StringComparer.Ordinal);

        public bool Has(string name) => Inputs.ContainsKey(name);

        public bool IsType(string type) => string.Equals(Type, type, StringComparison.Ordinal);

        public override string ToString() => $"{Type} #{Id}";
    }

    /// <summary>An input: a literal <see cref="Value"/>, or a <see cref="Link"/> to output <see cref="Slot"/> of another node.</summary>
    internal readonly record struct Input(JsonElement Value, string? Link, int Slot)
    {
        public static Input Literal(JsonElement value) => new(value, null, 0);

        public static Input To(string node, int slot) => new(default, node, slot);
    }
}
