namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// The mutable form of a <see cref="GenerationInfo"/> while one source parser fills it in.
/// Texts are trimmed and blank ones dropped when it is frozen; warnings and LoRAs are capped, so a
/// hostile file cannot grow them without bound.
/// </summary>
internal sealed class GenerationDraft(string source)
{
    private const int MaxWarnings = 20;
    private const int MaxLoras = 100;

    public string Source { get; set; } = source;

    public string? Prompt { get; set; }

    public string? NegativePrompt { get; set; }

    public int? Steps { get; set; }

    public string? Sampler { get; set; }

    public string? Scheduler { get; set; }

    public double? CfgScale { get; set; }

    public long? Seed { get; set; }

    public int? Width { get; set; }

    public int? Height { get; set; }

    public string? Model { get; set; }

    public string? ModelHash { get; set; }

    public string? Vae { get; set; }

    public double? Denoise { get; set; }

    public int? ClipSkip { get; set; }

    public double? HiresUpscale { get; set; }

    public string? HiresUpscaler { get; set; }

    public string? Version { get; set; }

    public int Samplers { get; set; } = 1;

    public List<Lora> Loras { get; } = [];

    public List<string> Warnings { get; } = [];

    public void Warn(string warning)
    {
        if (Warnings.Count < MaxWarnings && !Warnings.Contains(warning, StringComparer.Ordinal))
        {
            Warnings.Add(warning);
        }
    }

    /// <summary>Adds a LoRA, or completes the one of the same name already listed with a weight or hash it lacked.</summary>
    public void AddLora(string? name, double? weight, string? hash = null)
    {
        name = Text(name);
        if (name is null)
        {
            return;
        }

        hash = Text(hash);
        var index = Loras.FindIndex(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            var known = Loras[index];
            Loras[index] = known with { Weight = known.Weight ?? weight, Hash = known.Hash ?? hash };
        }
        else if (Loras.Count < MaxLoras)
        {
            Loras.Add(new Lora(name, weight, hash));
        }
    }

    public GenerationInfo ToInfo() => new(
        Source, Text(Prompt), Text(NegativePrompt), Steps, Text(Sampler), Text(Scheduler), CfgScale, Seed, Width, Height,
        Text(Model), Text(ModelHash), Text(Vae), Denoise, ClipSkip, HiresUpscale, Text(HiresUpscaler), Text(Version),
        Loras.ToArray(), Samplers, Warnings.ToArray());

    /// <summary>Trimmed text, or null for none or blank.</summary>
    public static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
