using IngestLite.Jobs.Stages.Generation;

namespace IngestLite.Tests.Unit;

/// <summary>
/// The A1111 text layout as A1111 (modules/processing.py create_infotext), Forge, SD.Next
/// (modules/processing_info.py) and Fooocus's a1111 scheme write it, read through the public entry point.
/// </summary>
public sealed class GenerationA1111Tests
{
    /// <summary>A1111 1.10: SDXL, hires fix, two LoRA tags with their hashes (quoted: the value holds commas and colons).</summary>
    internal const string A1111Sdxl =
        "masterpiece, best quality, 1girl, solo, (red hair:1.2), forest, <lora:add_detail:0.6>, <lora:foxStyle_v2:0.8>\n" +
        "Negative prompt: lowres, bad anatomy, (worst quality:1.4), watermark\n" +
        "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 2871923459, Size: 832x1216, " +
        "Model hash: 31e35c80fc, Model: sd_xl_base_1.0, VAE hash: 235745af8d, VAE: sdxl_vae.safetensors, Denoising strength: 0.45, " +
        "Clip skip: 2, Hires upscale: 1.5, Hires steps: 15, Hires upscaler: 4x-UltraSharp, " +
        "Lora hashes: \"add_detail: 7c6bad76eb54, foxStyle_v2: 3f5b9f1a2c4d\", TI hashes: \"easynegative: c74b4e810b03\", Version: v1.10.1";

    /// <summary>Forge on Flux (a real layout: Distilled CFG Scale, Module N); its LoRAs appear only in Lora hashes.</summary>
    internal const string ForgeFlux =
        "FredFraiStyle \"positive.\"\n" +
        "Steps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, Seed: 3045329758, Size: 832x1216, " +
        "Model hash: 06f96f89f6, Model: flux_dev, Lora hashes: \"FredFraiStyle-FLUX-Share: de92428f6411, Ars_MidJourney_Style_-_Flux: c4f0b45e6a60, " +
        "- Flux1 - vanta_black_V2.0: 5d8cf3724039\", Version: f2.0.1v1.10.1-previous-561-g82eb7566, Diffusion in Low Bits: Automatic (fp16 LoRA), " +
        "Module 1: ae, Module 2: clip_l, Module 3: t5xxl_fp8_e4m3fn";

    /// <summary>SD.Next: Seed before Sampler, and "App: SD.Next" naming the writer.</summary>
    internal const string SdNext =
        "a cat sitting on a windowsill, sunset\n" +
        "Negative prompt: blurry\n" +
        "Steps: 20, Seed: 1620085323, Sampler: DPM++ 2M, CFG scale: 6, Size: 1024x1024, Parser: Full parser, Model: juggernautXL_v9, " +
        "Model hash: c9e3e68f89, VAE: sdxl_vae, Backend: Diffusers, App: SD.Next, Version: 2a69a8a, Operations: txt2img";

    [Test]
    public void A1111_sdxl_with_hires_fix_and_loras()
    {
        var info = Parse(A1111Sdxl);

        Assert.That(info.Source, Is.EqualTo(GenerationSources.A1111));
        Assert.That(info.Prompt, Is.EqualTo("masterpiece, best quality, 1girl, solo, (red hair:1.2), forest, <lora:add_detail:0.6>, <lora:foxStyle_v2:0.8>"));
        Assert.That(info.NegativePrompt, Is.EqualTo("lowres, bad anatomy, (worst quality:1.4), watermark"));
        Assert.That((info.Steps, info.Sampler, info.Scheduler, info.CfgScale, info.Seed), Is.EqualTo((28, "DPM++ 2M", "Karras", 6.5, 2871923459L)));
        Assert.That((info.Width, info.Height), Is.EqualTo((832, 1216)));
        Assert.That((info.Model, info.ModelHash, info.Vae), Is.EqualTo(("sd_xl_base_1.0", "31e35c80fc", "sdxl_vae.safetensors")));
        Assert.That((info.Denoise, info.ClipSkip, info.HiresUpscale, info.HiresUpscaler), Is.EqualTo((0.45, 2, 1.5, "4x-UltraSharp")));
        Assert.That(info.Version, Is.EqualTo("A1111 v1.10.1"));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("add_detail", 0.6, "7c6bad76eb54"), new Lora("foxStyle_v2", 0.8, "3f5b9f1a2c4d") }));
        Assert.That(info.Samplers, Is.EqualTo(1));
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void Forge_is_named_in_version_and_hash_only_loras_are_listed()
    {
        var info = Parse(ForgeFlux);

        Assert.That(info.Source, Is.EqualTo(GenerationSources.A1111));
        Assert.That(info.Version, Is.EqualTo("Forge f2.0.1v1.10.1-previous-561-g82eb7566"));
        Assert.That(info.Prompt, Is.EqualTo("FredFraiStyle \"positive.\""));
        Assert.That(info.NegativePrompt, Is.Null, "no Negative prompt line");
        Assert.That((info.Sampler, info.Scheduler, info.CfgScale, info.Model, info.ModelHash), Is.EqualTo(("Euler", "Simple", 1.0, "flux_dev", "06f96f89f6")));
        Assert.That(info.Loras, Is.EqualTo(new[]
        {
            new Lora("FredFraiStyle-FLUX-Share", null, "de92428f6411"),
            new Lora("Ars_MidJourney_Style_-_Flux", null, "c4f0b45e6a60"),
            new Lora("- Flux1 - vanta_black_V2.0", null, "5d8cf3724039"),
        }));
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void SdNext_is_named_in_version()
    {
        var info = Parse(SdNext);

        Assert.That(info.Version, Is.EqualTo("SD.Next 2a69a8a"));
        Assert.That((info.Prompt, info.NegativePrompt, info.Seed, info.Sampler, info.Model), Is.EqualTo(("a cat sitting on a windowsill, sunset", "blurry", 1620085323L, "DPM++ 2M", "juggernautXL_v9")));
        Assert.That((info.Width, info.Height), Is.EqualTo((1024, 1024)));
    }

    [Test]
    public void Classic_forge_version_is_forge_too()
    {
        var info = Parse("a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Version: f0.0.17v1.8.0rc-latest-276-g29be1da7");

        Assert.That(info.Version, Is.EqualTo("Forge f0.0.17v1.8.0rc-latest-276-g29be1da7"));
    }

    [Test]
    public void Fooocus_a1111_scheme_is_fooocus_and_prefers_the_raw_prompt()
    {
        // Fooocus's A1111MetadataParser.parse_string: the expanded prompt on the prompt line, what the user typed in Raw prompt.
        var text =
            "cinematic still a fox in the snow . emotional, harmonious, vignette, highly detailed, a fox in the snow, intricate, elegant\n" +
            "Negative prompt: anime, cartoon, graphic, text, painting, crayon\n" +
            "Steps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 1234567890, Size: 1152x896, CFG scale: 4, Sharpness: 2, ADM Guidance: \"(1.5, 0.8, 0.3)\", " +
            "Model: juggernautXL_v8Rundiffusion, Model hash: aeb7e9e689, Performance: Speed, Scheduler: karras, VAE: Default (model), " +
            "Raw prompt: a fox in the snow, Lora hashes: \"sd_xl_offset_example-lora_1.0: 4852686128f9\", " +
            "Lora weights: \"sd_xl_offset_example-lora_1.0: 0.1\", Version: Fooocus v2.5.5";

        var info = Parse(text);

        Assert.That(info.Source, Is.EqualTo(GenerationSources.Fooocus));
        Assert.That(info.Version, Is.EqualTo("Fooocus v2.5.5"));
        Assert.That(info.Prompt, Is.EqualTo("a fox in the snow"));
        Assert.That(info.NegativePrompt, Is.EqualTo("anime, cartoon, graphic, text, painting, crayon"));
        Assert.That((info.Scheduler, info.CfgScale, info.Width, info.Height), Is.EqualTo(("karras", 4.0, 1152, 896)));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("sd_xl_offset_example-lora_1.0", 0.1, "4852686128f9") }));
    }

    [Test]
    public void Prompt_opening_with_braces_is_not_taken_for_json()
    {
        var info = Parse("{{masterpiece}}, 1girl, {white hair}\nSteps: 28, Sampler: Euler a, CFG scale: 5, Seed: 9");

        Assert.That((info.Source, info.Prompt, info.Seed), Is.EqualTo((GenerationSources.A1111, "{{masterpiece}}, 1girl, {white hair}", 9L)));
        Assert.That(info.Warnings, Is.Empty, "the failed JSON reading is not reported once the text reads as A1111");
    }

    [Test]
    public void Multi_line_prompt_and_negative_with_crlf()
    {
        var info = Parse("line one,\r\nline two\r\nNegative prompt: bad hands,\r\nextra fingers\r\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 4294967296, Model: x");

        Assert.That((info.Prompt, info.NegativePrompt), Is.EqualTo(("line one,\nline two", "bad hands,\nextra fingers")));
        Assert.That((info.Steps, info.Sampler, info.Seed), Is.EqualTo((30, "DPM++ 2M Karras", 4294967296L)));
        Assert.That(info.Scheduler, Is.Null, "before 1.9 the schedule was part of the sampler name, and is left there");
    }

    [Test]
    public void Quoted_values_keep_their_commas_and_escapes()
    {
        var info = Parse("a fox\nSteps: 20, Sampler: Euler a, ADetailer prompt: \"detailed face, \\\"smile\\\"\", CFG scale: 7, Model: sdxl_base");

        Assert.That((info.Steps, info.Sampler, info.CfgScale, info.Model), Is.EqualTo((20, "Euler a", 7.0, "sdxl_base")));
        Assert.That(info.Warnings, Is.Empty);
    }

    [TestCase("<lora:detail>", null)]
    [TestCase("<lora:detail:0.7>", 0.7)]
    [TestCase("<lora:detail:0.7:0.3>", 0.7)]
    [TestCase("<lora:detail:te=0.4:unet=0.9>", 0.4)]
    [TestCase("< LORA : detail : -1 >", -1.0)]
    public void Lora_tag_weights(string tag, double? weight)
    {
        var info = Parse($"a fox, {tag}, snow\nSteps: 20, Sampler: Euler, CFG scale: 7");

        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("detail", weight) }));
    }

    [Test]
    public void Repeated_lora_tag_is_listed_once()
    {
        var info = Parse("<lora:detail:0.5>, a fox, <LORA:Detail:0.9>\nSteps: 20, Sampler: Euler, CFG scale: 7");

        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("detail", 0.5) }));
    }

    [Test]
    public void Without_settings_line_it_is_all_prompt_with_a_warning()
    {
        var info = Parse("just a prompt\nover two lines");

        Assert.That((info.Source, info.Prompt, info.Steps), Is.EqualTo((GenerationSources.A1111, "just a prompt\nover two lines", (int?)null)));
        Assert.That(info.Warnings, Has.One.Contains("no settings line"));
    }

    [Test]
    public void Two_settings_are_not_a_settings_line()
    {
        // A1111 wants at least three "Key: value" pairs on the last line, so a prompt line with a colon stays prompt.
        var info = Parse("style: watercolor, subject: fox");

        Assert.That(info.Prompt, Is.EqualTo("style: watercolor, subject: fox"));
        Assert.That(info.Steps, Is.Null);
    }

    [Test]
    public void Lines_after_the_settings_line_are_ignored_with_a_warning()
    {
        var info = Parse("a fox\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5\nTemplate: a {fox|cat}");

        Assert.That((info.Prompt, info.Steps, info.Seed), Is.EqualTo(("a fox", 20, 5L)));
        Assert.That(info.Warnings, Has.One.Contains("after the settings line"));
    }

    [Test]
    public void Unparseable_numbers_are_null_and_named_in_warnings()
    {
        var info = Parse("p\nSteps: many, CFG scale: high, Seed: -1x, Size: big, Clip skip: 2");

        Assert.That((info.Steps, info.CfgScale, info.Seed, info.Width), Is.EqualTo(((int?)null, (double?)null, (long?)null, (int?)null)));
        Assert.That(info.ClipSkip, Is.EqualTo(2));
        Assert.That(info.Warnings, Has.Some.StartsWith("Steps:").And.Some.StartsWith("CFG scale:").And.Some.StartsWith("Seed:").And.Some.StartsWith("Size:"));
    }

    [Test]
    public void Seed_beyond_64_bits_is_null_with_a_warning()
    {
        var info = Parse("p\nSteps: 20, Sampler: Euler, Seed: 18446744073709551615");

        Assert.That(info.Seed, Is.Null);
        Assert.That(info.Warnings, Has.One.Contains("does not fit a signed 64-bit value"));
    }

    [TestCase("")]
    [TestCase(" \n ")]
    public void Blank_parameters_are_no_generation_metadata(string text)
    {
        Assert.That(GenerationParser.Parse(new Dictionary<string, string> { ["parameters"] = text }, " "), Is.Null);
    }

    private static GenerationInfo Parse(string parameters) =>
        GenerationParser.Parse(new Dictionary<string, string> { ["parameters"] = parameters }, null)
        ?? throw new AssertionException("a parameters chunk always yields a record");
}
