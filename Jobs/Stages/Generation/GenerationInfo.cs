namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// The generation settings of one AI-generated image, in one shape whatever tool wrote them.
/// </summary>
/// <remarks>
/// Every field is what the file says, untranslated (sampler and scheduler names stay in the
/// tool's own vocabulary: "DPM++ 2M" from A1111, "dpmpp_2m" from ComfyUI); a field the file does
/// not hold, or holds in a form that does not parse, is null and, in the second case, named in
/// <see cref="Warnings"/>. Built by <see cref="GenerationParser"/>, which never throws.
/// </remarks>
/// <param name="Source">Which layout was read: <see cref="GenerationSources"/> (a1111, comfyui, invokeai, novelai, fooocus, swarmui).</param>
/// <param name="Prompt">The positive prompt.</param>
/// <param name="NegativePrompt">The negative prompt.</param>
/// <param name="Steps">Sampling steps.</param>
/// <param name="Sampler">The sampler, as the tool names it.</param>
/// <param name="Scheduler">The noise schedule ("Karras", "normal"), when the tool records it apart from the sampler.</param>
/// <param name="CfgScale">Classifier-free guidance scale.</param>
/// <param name="Seed">The noise seed; null when it does not fit a signed 64-bit value.</param>
/// <param name="Width">The generation width (A1111's "Size", ComfyUI's empty latent), not the file's.</param>
/// <param name="Height">The generation height.</param>
/// <param name="Model">The main model (checkpoint or diffusion model) name.</param>
/// <param name="ModelHash">The model's hash, in the tool's own form.</param>
/// <param name="Vae">The VAE, when one was named apart from the model.</param>
/// <param name="Denoise">Denoising strength (img2img, or the final pass of a hires fix).</param>
/// <param name="ClipSkip">CLIP skip as a positive count (ComfyUI's stop_at_clip_layer -2 is 2).</param>
/// <param name="HiresUpscale">The hires-fix upscale factor.</param>
/// <param name="HiresUpscaler">The hires-fix upscaler.</param>
/// <param name="Version">The writing application and its version; for A1111-layout text it says which of A1111, Forge, SD.Next wrote it.</param>
/// <param name="Loras">LoRAs used, in the order the file lists them.</param>
/// <param name="Samplers">ComfyUI: how many sampler nodes the graph had (the fields come from the final one); 1 elsewhere.</param>
/// <param name="Warnings">What could not be read, one short sentence each.</param>
public sealed record GenerationInfo(
    string Source,
    string? Prompt,
    string? NegativePrompt,
    int? Steps,
    string? Sampler,
    string? Scheduler,
    double? CfgScale,
    long? Seed,
    int? Width,
    int? Height,
    string? Model,
    string? ModelHash,
    string? Vae,
    double? Denoise,
    int? ClipSkip,
    double? HiresUpscale,
    string? HiresUpscaler,
    string? Version,
    IReadOnlyList<Lora> Loras,
    int Samplers,
    IReadOnlyList<string> Warnings);

