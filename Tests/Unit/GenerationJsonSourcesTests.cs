using IngestLite.Jobs.Stages.Generation;

namespace IngestLite.Tests.Unit;

/// <summary>
/// The JSON layouts: InvokeAI's invokeai_metadata (core_metadata node), NovelAI's Comment,
/// Fooocus's own scheme, SwarmUI's sui_image_params; and which source wins when a file has several.
/// </summary>
public sealed class GenerationJsonSourcesTests
{
    /// <summary>InvokeAI 4.x: model identifiers with name and hash.</summary>
    internal const string InvokeAI4 = """
        {"generation_mode": "sdxl_txt2img", "positive_prompt": "a lighthouse on a cliff at dusk, dramatic sky", "negative_prompt": "blurry, lowres", "width": 1024, "height": 1024, "seed": 3389476432, "rand_device": "cpu", "cfg_scale": 7.5, "cfg_rescale_multiplier": 0, "steps": 30, "scheduler": "dpmpp_2m_k", "model": {"key": "6b0e5b4e-3f6c-4b2a-9d1e-2c8e7f0a1b2c", "hash": "blake3:c7e5ab5e8a2d4f0b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b", "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"}, "vae": {"key": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "hash": "blake3:1a2b3c", "name": "sdxl-vae-fp16-fix", "base": "sdxl", "type": "vae"}, "loras": [{"model": {"key": "9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d", "hash": "blake3:9f1c2d", "name": "Detail Tweaker XL", "base": "sdxl", "type": "lora"}, "weight": 0.75}], "positive_style_prompt": "", "negative_style_prompt": "", "app_version": "4.2.4"}
        """;

    /// <summary>NovelAI V3 Comment (stored with Software "NovelAI", prompt in Description, model in Source).</summary>
    internal const string NovelAIComment = """
        {"prompt": "1girl, white hair, {{masterpiece}}, best quality, amazing quality", "steps": 28, "height": 1216, "width": 832, "scale": 5.0, "uncond_scale": 0.0, "cfg_rescale": 0.0, "seed": 3514826379, "n_samples": 1, "hide_debug_overlay": false, "noise_schedule": "native", "legacy_v3_extend": false, "reference_information_extracted_multiple": [], "reference_strength_multiple": [], "sampler": "k_euler_ancestral", "controlnet_strength": 1.0, "controlnet_model": null, "dynamic_thresholding": false, "dynamic_thresholding_percentile": 0.999, "dynamic_thresholding_mimic_scale": 10.0, "sm": false, "sm_dyn": false, "skip_cfg_below_sigma": 0.0, "lora_unet_weights": null, "lora_clip_weights": null, "uc": "nsfw, lowres, {bad}, error, fewer, extra, missing, worst quality, jpeg artifacts", "request_type": "PromptGenerateRequest", "signed_hash": "ILqJjY0kR0xv9vq1cB4r2w=="}
        """;

    /// <summary>Fooocus 2.5 in its own scheme: FooocusMetadataParser.parse_string's sorted JSON.</summary>
    internal const string FooocusJson = """
        {"adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion", "base_model_hash": "aeb7e9e6897a1e58b10494bd989d001e3d4bc9b634633cd7b559838f612c2867", "clip_skip": 2, "full_negative_prompt": ["(worst quality, low quality, normal quality, lowres, low details:1.4), (watermark, signature, text font:1.2)"], "full_prompt": ["cinematic still a fox in the snow . emotional, harmonious, vignette, 4k epic detailed", "a fox in the snow, intricate, elegant, highly detailed, wonderful colors, sweet, sharp focus"], "guidance_scale": 4, "lora_combined_1": "sd_xl_offset_example-lora_1.0 : 0.1", "loras": [["sd_xl_offset_example-lora_1.0", 0.1, "4852686128f953d0277d0793e2f0335352f96a919c9c16a09787d77f55cbdf6f"]], "metadata_scheme": "fooocus", "negative_prompt": "", "performance": "Speed", "prompt": "a fox in the snow", "prompt_expansion": "a fox in the snow, intricate, elegant, highly detailed, wonderful colors, sweet, sharp focus", "refiner_model": "None", "refiner_switch": 0.5, "resolution": "(1152, 896)", "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras", "seed": "1234567890", "sharpness": 2, "steps": 30, "styles": "['Fooocus V2', 'Fooocus Photograph', 'Fooocus Negative']", "vae": "Default (model)", "version": "Fooocus v2.5.5"}
        """;

    /// <summary>SwarmUI 0.9: pretty-printed, string-typed LoRA weights, sui_models hashes, and the trailing comma its own docs show.</summary>
    internal const string SwarmJson = """
        {
          "sui_image_params": {
            "prompt": "1girl, office lady, <lora:styleA>",
            "negativeprompt": "pov, feet",
            "model": "realDream_animaV2",
            "seed": 1755497345,
            "steps": 16,
            "cfgscale": 2.0,
            "aspectratio": "Custom",
            "width": 1248,
            "height": 1824,
            "sampler": "er_sde",
            "scheduler": "beta_1_1",
            "clipstoplayer": -2,
            "initimagecreativity": 0.6,
            "loras": ["styleA", "turbo-v0.2"],
            "loraweights": ["0.4", "0.7"],
            "swarm_version": "0.9.8.1"
          },
          "sui_extra_data": {
            "date": "2025-10-02",
            "generation_time": "0.41 (prep) and 6.11 (gen) seconds"
          },
          "sui_models": [
            {"name": "realDream_animaV2.safetensors", "param": "model", "hash": "0x84fc41ea0821fa0a"},
            {"name": "styleA.safetensors", "param": "loras", "hash": "0xe8055d97ec312203"}
          ],
        }
        """;

    [Test]
    public void InvokeAI_4_core_metadata()
    {
        var info = Parse(new() { ["invokeai_metadata"] = InvokeAI4 });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.InvokeAI));
        Assert.That((info.Prompt, info.NegativePrompt), Is.EqualTo(("a lighthouse on a cliff at dusk, dramatic sky", "blurry, lowres")));
        Assert.That((info.Width, info.Height, info.Seed, info.CfgScale, info.Steps, info.Sampler), Is.EqualTo((1024, 1024, 3389476432L, 7.5, 30, "dpmpp_2m_k")));
        Assert.That((info.Model, info.ModelHash, info.Vae, info.Version), Is.EqualTo(("Juggernaut XL v9", "blake3:c7e5ab5e8a2d4f0b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b", "sdxl-vae-fp16-fix", "InvokeAI 4.2.4")));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("Detail Tweaker XL", 0.75, "blake3:9f1c2d") }));
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void InvokeAI_3_model_names()
    {
        var json = """
            {"generation_mode": "txt2img", "cfg_scale": 7.5, "height": 512, "width": 768, "positive_prompt": "a cozy cabin", "negative_prompt": "", "model": {"model_name": "stable-diffusion-v1-5", "base_model": "sd-1", "model_type": "main"}, "steps": 50, "rand_device": "cpu", "scheduler": "euler", "seed": 1234, "loras": [{"lora": {"model_name": "add_detail", "base_model": "sd-1"}, "weight": 0.5}], "vae": {"model_name": "sd-vae-ft-mse", "base_model": "sd-1"}, "clip_skip": 0, "app_version": "3.4.0post2"}
            """;

        var info = Parse(new() { ["invokeai_metadata"] = json });

        Assert.That((info.Model, info.Vae, info.NegativePrompt, info.Version), Is.EqualTo(("stable-diffusion-v1-5", "sd-vae-ft-mse", (string?)null, "InvokeAI 3.4.0post2")));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("add_detail", 0.5) }));
    }

    [Test]
    public void NovelAI_v3_chunks()
    {
        var info = Parse(new()
        {
            ["Title"] = "NovelAI generated image",
            ["Description"] = "1girl, white hair, {{masterpiece}}, best quality, amazing quality",
            ["Software"] = "NovelAI",
            ["Source"] = "Stable Diffusion XL C1E1DE52",
            ["Generation time"] = "6.933928299997933",
            ["Comment"] = NovelAIComment,
        });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.NovelAI));
        Assert.That(info.Prompt, Is.EqualTo("1girl, white hair, {{masterpiece}}, best quality, amazing quality"));
        Assert.That(info.NegativePrompt, Is.EqualTo("nsfw, lowres, {bad}, error, fewer, extra, missing, worst quality, jpeg artifacts"));
        Assert.That((info.Steps, info.CfgScale, info.Seed, info.Sampler, info.Scheduler), Is.EqualTo((28, 5.0, 3514826379L, "k_euler_ancestral", "native")));
        Assert.That((info.Width, info.Height, info.Model, info.Version), Is.EqualTo((832, 1216, "Stable Diffusion XL C1E1DE52", "NovelAI")));
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void NovelAI_v4_captions_when_description_is_missing()
    {
        var comment = """
            {"prompt": "", "steps": 23, "height": 1216, "width": 832, "scale": 5, "seed": 42, "sampler": "k_euler_ancestral", "noise_schedule": "karras", "v4_prompt": {"caption": {"base_caption": "2girls, library, sunlight", "char_captions": [{"char_caption": "girl, red hair", "centers": [{"x": 0.3, "y": 0.5}]}]}, "use_coords": false, "use_order": true}, "v4_negative_prompt": {"caption": {"base_caption": "lowres, bad anatomy", "char_captions": []}, "legacy_uc": false}, "request_type": "PromptGenerateRequest"}
            """;

        var info = Parse(new() { ["Software"] = "NovelAI", ["Source"] = "NovelAI Diffusion V4.5 4BDE2A90", ["Comment"] = comment });

        Assert.That((info.Prompt, info.NegativePrompt, info.Scheduler), Is.EqualTo(("2girls, library, sunlight", "lowres, bad anatomy", "karras")));
        Assert.That(info.Model, Is.EqualTo("NovelAI Diffusion V4.5 4BDE2A90"));
    }

    [Test]
    public void A_comment_from_another_program_is_not_novelai()
    {
        Assert.That(GenerationParser.Parse(new Dictionary<string, string> { ["Comment"] = "Created with GIMP" }, null), Is.Null);
    }

    [Test]
    public void Fooocus_own_scheme_in_parameters()
    {
        var info = Parse(new() { ["parameters"] = FooocusJson, ["fooocus_scheme"] = "fooocus" });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.Fooocus));
        Assert.That((info.Prompt, info.NegativePrompt), Is.EqualTo(("a fox in the snow", (string?)null)), "what the user typed, not the expansion");
        Assert.That((info.Steps, info.CfgScale, info.Seed, info.Sampler, info.Scheduler), Is.EqualTo((30, 4.0, 1234567890L, "dpmpp_2m_sde_gpu", "karras")));
        Assert.That((info.Width, info.Height, info.ClipSkip), Is.EqualTo((1152, 896, 2)));
        Assert.That((info.Model, info.Vae, info.Version), Is.EqualTo(("juggernautXL_v8Rundiffusion", "Default (model)", "Fooocus v2.5.5")));
        Assert.That(info.ModelHash, Does.StartWith("aeb7e9e6"));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("sd_xl_offset_example-lora_1.0", 0.1, "4852686128f953d0277d0793e2f0335352f96a919c9c16a09787d77f55cbdf6f") }));
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void Fooocus_json_is_recognised_without_its_scheme_chunk()
    {
        Assert.That(Parse(new() { ["parameters"] = FooocusJson }).Source, Is.EqualTo(GenerationSources.Fooocus));
    }

    [Test]
    public void SwarmUI_in_parameters()
    {
        var info = Parse(new() { ["parameters"] = SwarmJson });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.SwarmUI));
        Assert.That((info.Prompt, info.NegativePrompt), Is.EqualTo(("1girl, office lady, <lora:styleA>", "pov, feet")));
        Assert.That((info.Seed, info.Steps, info.CfgScale, info.Width, info.Height), Is.EqualTo((1755497345L, 16, 2.0, 1248, 1824)));
        Assert.That((info.Sampler, info.Scheduler, info.ClipSkip, info.Denoise), Is.EqualTo(("er_sde", "beta_1_1", 2, 0.6)));
        Assert.That((info.Model, info.ModelHash, info.Version), Is.EqualTo(("realDream_animaV2", "0x84fc41ea0821fa0a", "SwarmUI 0.9.8.1")));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("styleA", 0.4, "0xe8055d97ec312203"), new Lora("turbo-v0.2", 0.7) }));
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void SwarmUI_in_its_own_chunk_with_comma_separated_lists()
    {
        var chunk = """{"prompt": "a cat", "model": "OfficialStableDiffusion/sd_xl_base_1.0", "seed": "17", "loras": "a,b", "loraweights": "1,0.5", "swarm_version": "0.9.3.1"}""";

        var info = Parse(new() { ["sui_image_params"] = chunk });

        Assert.That((info.Source, info.Prompt, info.Seed, info.Model), Is.EqualTo((GenerationSources.SwarmUI, "a cat", 17L, "OfficialStableDiffusion/sd_xl_base_1.0")));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("a", 1), new Lora("b", 0.5) }));
    }

    [Test]
    public void Swarm_json_wins_over_a_comfy_graph_it_also_saved()
    {
        var info = Parse(new() { ["parameters"] = SwarmJson, ["prompt"] = GenerationComfyTests.DefaultPrompt });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.SwarmUI));
    }

    [Test]
    public void Comfy_graph_wins_over_a1111_text_a_save_node_wrote_beside_it()
    {
        var info = Parse(new() { ["parameters"] = GenerationA1111Tests.A1111Sdxl, ["prompt"] = GenerationComfyTests.DefaultPrompt });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.ComfyUI));
    }

    [Test]
    public void A1111_text_wins_over_a_comfy_prompt_without_sampler()
    {
        var info = Parse(new() { ["parameters"] = GenerationA1111Tests.A1111Sdxl, ["prompt"] = "{}" });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.A1111));
    }

    [Test]
    public void Unknown_json_in_parameters_is_an_unknown_source_with_a_warning()
    {
        var info = Parse(new() { ["parameters"] = """{"tool": "something else", "text": "a cat"}""" });

        Assert.That(info.Source, Is.EqualTo(GenerationSources.Unknown));
        Assert.That(info.Warnings, Has.One.Contains("unknown layout"));
    }

    [TestCase("invokeai_metadata")]
    [TestCase("sui_image_params")]
    [TestCase("Comment")]
    public void Malformed_json_of_a_known_chunk_is_a_warning(string key)
    {
        var chunks = new Dictionary<string, string> { [key] = "{\"prompt\": \"a cat\", \"steps\": ", ["Software"] = "NovelAI" };

        var info = GenerationParser.Parse(chunks, null);

        Assert.That(info, Is.Not.Null);
        Assert.That(info!.Warnings, Has.Some.Contains("not valid JSON").Or.Some.Contains("no Comment settings"));
    }

    [Test]
    public void Chunks_of_no_generation_tool_give_null()
    {
        Assert.That(GenerationParser.Parse(new Dictionary<string, string> { ["Software"] = "Adobe ImageReady", ["Author"] = "me" }, null), Is.Null);
        Assert.That(GenerationParser.Parse(new Dictionary<string, string>(), null), Is.Null);
        Assert.That(GenerationParser.Parse(null, null), Is.Null);
    }

    [Test]
    public void Oversized_chunk_is_skipped_with_a_warning()
    {
        var huge = new string('a', GenerationParser.MaxTextChars + 1);

        var info = GenerationParser.Parse(new Dictionary<string, string> { ["parameters"] = huge }, null);

        Assert.That(info?.Source, Is.EqualTo(GenerationSources.Unknown));
        Assert.That(info!.Warnings, Has.One.Contains("not read"));
    }

    private static GenerationInfo Parse(Dictionary<string, string> chunks) =>
        GenerationParser.Parse(chunks, null) ?? throw new AssertionException("expected a record");
}
