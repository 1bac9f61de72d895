namespace IngestLite.Jobs.Stages.Generation;

/// <summary>The values of <see cref="GenerationInfo.Source"/>.</summary>
public static class GenerationSources
{
    /// <summary>A1111's text layout, also written by Forge and SD.Next (named in <see cref="GenerationInfo.Version"/>).</summary>
    public const string A1111 = "a1111";
    public const string ComfyUI = "comfyui";
    public const string InvokeAI = "invokeai";
    public const string NovelAI = "novelai";
    public const string Fooocus = "fooocus";
    public const string SwarmUI = "swarmui";

    /// <summary>Generation metadata was there but in no layout this parser knows; <see cref="GenerationInfo.Warnings"/> says what.</summary>
    public const string Unknown = "unknown";
}
