using System.Text.Json;

namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// Turns the generation metadata an image carries, its PNG text chunks and its EXIF UserComment,
/// into one <see cref="GenerationInfo"/>, whichever tool wrote it. It needs no file, so stored text
/// can be parsed again later.
/// </summary>
/// <remarks>
/// Precedence, first match wins: SwarmUI JSON (a <c>sui_image_params</c> chunk, or <c>parameters</c>
/// holding it); Fooocus JSON in <c>parameters</c>; a ComfyUI <c>prompt</c> graph with a sampler
/// (else its <c>workflow</c>); <c>invokeai_metadata</c>; NovelAI (<c>Software</c>, <c>Comment</c>);
/// A1111-layout <c>parameters</c> text (A1111, Forge, SD.Next, Fooocus's a1111 scheme); then the EXIF
/// UserComment, read the same ways but only when it is JSON of a known layout or A1111 text with a
/// settings line, since cameras put plain comments there.
/// Never throws: malformed or unknown metadata yields warnings (with <see cref="GenerationSources.Unknown"/>
/// when no layout was recognised), and texts over <see cref="MaxTextChars"/> are not read.
/// Costs one JSON parse per JSON chunk read (System.Text.Json's <see cref="JsonDocument"/>, no
/// serializer) and, for A1111 text, one generated regex pass over the settings line.
/// </remarks>
public static class GenerationParser
{
    /// <summary>Texts longer than this are skipped with a warning (the file reader already skips such chunks).</summary>
    public const int MaxTextChars = 1024 * 1024;

    private static readonly Dictionary<string, string> NoChunks = new(StringComparer.Ordinal);

    /// <summary>Parses the text chunks (keyword → text) and the decoded EXIF UserComment; null when neither holds generation metadata (a blank chunk is none).</summary>
    public static GenerationInfo? Parse(IReadOnlyDictionary<string, string>? textChunks, string? exifUserComment)
    {
        var chunks = textChunks ?? NoChunks;
        var skipped = new List<string>();
        string? Get(string key)
        {
            if (!chunks.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            if (value.Length > MaxTextChars)
            {
                skipped.Add($"{key}: longer than {MaxTextChars} characters, not read");
                return null;
            }

            return value;
        }

        var comment = string.IsNullOrWhiteSpace(exifUserComment) || exifUserComment.Length > MaxTextChars ? null : exifUserComment;
        var result = Choose(chunks, Get, comment);
        if (exifUserComment is { Length: > MaxTextChars })
        {
            skipped.Add($"UserComment: longer than {MaxTextChars} characters, not read");
        }

        if (result is null && skipped.Count > 0)
        {
            result = new GenerationDraft(GenerationSources.Unknown);
        }

        foreach (var warning in skipped)
        {
            result?.Warn(warning);
        }

        return result?.ToInfo();
    }

    private static GenerationDraft? Choose(IReadOnlyDictionary<string, string> chunks, Func<string, string?> get, string? userComment)
    {
        GenerationDraft? unknown = null;
        if (get("sui_image_params") is { } swarm)
        {
            return Run(GenerationSources.SwarmUI, "sui_image_params", draft =>
            {
                using var document = GenerationJson.Parse(swarm, "sui_image_params", draft);
                if (document is not null)
                {
                    SwarmUIParser.Read(document.RootElement, draft);
                }
            });
        }

        var parameters = get("parameters");
        if (parameters is not null && GenerationJson.LooksLikeObject(parameters))
        {
            var fromJson = JsonLayout(parameters, get("fooocus_scheme"), "parameters");
            if (fromJson.Source != GenerationSources.Unknown)
            {
                return fromJson;
            }

            unknown = fromJson;
        }

        GenerationDraft? comfy = null;
        var prompt = get("prompt");
        var workflow = get("workflow");
        if (prompt is not null || workflow is not null)
        {
            comfy = ReadComfy(prompt, workflow);
            if (comfy.Samplers > 0)
            {
                return comfy;
            }
        }

        if (get("invokeai_metadata") is { } invoke)
        {
            return Run(GenerationSources.InvokeAI, "invokeai_metadata", draft =>
            {
                using var document = GenerationJson.Parse(invoke, "invokeai_metadata", draft);
                if (document is not null)
                {
                    InvokeAIParser.Read(document.RootElement, draft);
                }
            });
        }

        var novel = ReadNovelAI(chunks, get);
        if (novel is not null)
        {
            return novel;
        }

        if (parameters is not null)
        {
            if (!GenerationJson.LooksLikeObject(parameters))
            {
                return Run(GenerationSources.A1111, "parameters", draft => A1111Parser.Read(parameters, "parameters", draft));
            }

            // Not JSON after all: a prompt that opens with NovelAI-style emphasis, "{{masterpiece}}, 1girl".
            var hasSettings = false;
            var a1111 = Run(GenerationSources.A1111, "parameters", draft => hasSettings = A1111Parser.Read(parameters, "parameters", draft));
            if (hasSettings)
            {
                return a1111;
            }
        }

        if (userComment is not null && FromUserComment(userComment) is { } fromComment)
        {
            return fromComment;
        }

        return comfy ?? unknown;
    }

    /// <summary>The UserComment, when it is generation metadata: known JSON, or A1111 text with a settings line.</summary>
    private static GenerationDraft? FromUserComment(string comment)
    {
        if (GenerationJson.LooksLikeObject(comment) && JsonLayout(comment, null, "UserComment") is { } fromJson && fromJson.Source != GenerationSources.Unknown)
        {
            return fromJson;
        }

        var hasSettings = false;
        var draft = Run(GenerationSources.A1111, "UserComment", d => hasSettings = A1111Parser.Read(comment, "UserComment", d));
        return hasSettings ? draft : null;
    }

    /// <summary>JSON that SwarmUI, Fooocus or NovelAI wrote where A1111 puts its text; <see cref="GenerationSources.Unknown"/> otherwise.</summary>
    private static GenerationDraft JsonLayout(string text, string? fooocusScheme, string label) =>
        Run(GenerationSources.Unknown, label, draft =>
        {
            using var document = GenerationJson.Parse(text, label, draft);
            if (document is null)
            {
                return;
            }

            var root = document.RootElement;
            if (GenerationJson.TryGet(root, "sui_image_params", out _))
            {
                draft.Source = GenerationSources.SwarmUI;
                SwarmUIParser.Read(root, draft);
            }
            else if (FooocusParser.Recognises(root, fooocusScheme))
            {
                draft.Source = GenerationSources.Fooocus;
                FooocusParser.Read(root, draft);
            }
            else if (NovelAIParser.Recognises(NoChunks, root))
            {
                draft.Source = GenerationSources.NovelAI;
                NovelAIParser.Read(NoChunks, root, draft);
            }
            else
            {
                draft.Warn($"{label}: JSON of an unknown layout");
            }
        });

    private static GenerationDraft? ReadNovelAI(IReadOnlyDictionary<string, string> chunks, Func<string, string?> get)
    {
        var comment = get("Comment");
        var software = get("Software");
        if (comment is null && !string.Equals(software?.Trim(), "NovelAI", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        GenerationDraft? result = null;
        var draft = Run(GenerationSources.NovelAI, "Comment", d =>
        {
            using var document = comment is not null && GenerationJson.LooksLikeObject(comment) ? GenerationJson.Parse(comment, "Comment", d) : null;
            JsonElement? root = document?.RootElement;
            if (NovelAIParser.Recognises(chunks, root))
            {
                NovelAIParser.Read(chunks, root, d);
                result = d;
            }
        });
        return result is null ? null : draft;
    }

    /// <summary>The API graph when it has a sampler to follow, else the UI workflow converted; the other's warnings are kept.</summary>
    private static GenerationDraft ReadComfy(string? prompt, string? workflow)
    {
        var fromPrompt = prompt is null ? null : Run(GenerationSources.ComfyUI, "prompt", draft => ReadGraph(prompt, "prompt", ComfyGraph.FromPrompt, draft));
        if (fromPrompt is { Samplers: > 0 } || workflow is null)
        {
            return fromPrompt!;
        }

        var fromWorkflow = Run(GenerationSources.ComfyUI, "workflow", draft => ReadGraph(workflow, "workflow", ComfyWorkflowReader.Read, draft));
        var (chosen, other) = fromWorkflow.Samplers > 0 || fromPrompt is null ? (fromWorkflow, fromPrompt) : (fromPrompt, fromWorkflow);
        other?.Warnings.ForEach(chosen.Warn);
        return chosen;
    }

    private static void ReadGraph(string text, string label, Func<JsonElement, GenerationDraft, ComfyGraph?> load, GenerationDraft draft)
    {
        draft.Samplers = 0;
        if (!GenerationJson.LooksLikeObject(text))
        {
            // Some other program's plain-text "prompt": nothing says ComfyUI wrote it.
            draft.Source = GenerationSources.Unknown;
            draft.Warn($"{label}: not a JSON object, so not a ComfyUI graph");
            return;
        }

        using var document = GenerationJson.Parse(text, label, draft);
        if (document is null)
        {
            return;
        }

        if (load(document.RootElement, draft) is { } graph)
        {
            ComfyGraphReader.Read(graph, draft);
        }
        else
        {
            draft.Warn($"{label}: not a ComfyUI graph");
        }
    }

    /// <summary>Runs one parser over a fresh draft; anything it throws (a regex timeout, a surprise in the JSON) becomes a warning.</summary>
    private static GenerationDraft Run(string source, string label, Action<GenerationDraft> fill)
    {
        var draft = new GenerationDraft(source);
        try
        {
            fill(draft);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            draft.Warn($"{label}: could not be read ({ex.GetType().Name})");
        }

        return draft;
    }
}
