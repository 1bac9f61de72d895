using IngestLite.Jobs.Stages.Generation;

namespace IngestLite.Tests.Unit;

/// <summary>
/// ComfyUI graphs: the API "prompt" chunk SaveImage writes (node inputs as in ComfyUI's nodes.py and
/// comfy_extras/nodes_custom_sampler.py), and the UI "workflow" chunk, read when the prompt is absent.
/// </summary>
public sealed class GenerationComfyTests
{
    /// <summary>ComfyUI's default graph, as SaveImage stores it (json.dumps of the prompt, with _meta titles).</summary>
    internal const string DefaultPrompt = """
        {"3": {"inputs": {"seed": 156680208700286, "steps": 20, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}, "class_type": "KSampler", "_meta": {"title": "KSampler"}}, "4": {"inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}, "class_type": "CheckpointLoaderSimple", "_meta": {"title": "Load Checkpoint"}}, "5": {"inputs": {"width": 512, "height": 512, "batch_size": 1}, "class_type": "EmptyLatentImage", "_meta": {"title": "Empty Latent Image"}}, "6": {"inputs": {"text": "beautiful scenery nature glass bottle landscape, , purple galaxy bottle,", "clip": ["4", 1]}, "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}}, "7": {"inputs": {"text": "text, watermark", "clip": ["4", 1]}, "class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"}}, "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "class_type": "VAEDecode", "_meta": {"title": "VAE Decode"}}, "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage", "_meta": {"title": "Save Image"}}}
        """;

    /// <summary>The same default graph in the UI shape the frontend stores as "workflow" (links: id, from, slot, to, slot, type).</summary>
    internal const string DefaultWorkflow = """
        {"last_node_id": 9, "last_link_id": 9, "nodes": [
          {"id": 7, "type": "CLIPTextEncode", "pos": [413, 389], "size": {"0": 425.28, "1": 180.61}, "flags": {}, "order": 3, "mode": 0, "inputs": [{"name": "clip", "type": "CLIP", "link": 5}], "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [6], "slot_index": 0}], "properties": {"Node name for S&R": "CLIPTextEncode"}, "widgets_values": ["text, watermark"]},
          {"id": 6, "type": "CLIPTextEncode", "pos": [415, 186], "size": {"0": 422.85, "1": 164.31}, "flags": {}, "order": 2, "mode": 0, "inputs": [{"name": "clip", "type": "CLIP", "link": 3}], "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [4], "slot_index": 0}], "properties": {"Node name for S&R": "CLIPTextEncode"}, "widgets_values": ["beautiful scenery nature glass bottle landscape, , purple galaxy bottle,"]},
          {"id": 5, "type": "EmptyLatentImage", "pos": [473, 609], "size": {"0": 315, "1": 106}, "flags": {}, "order": 0, "mode": 0, "outputs": [{"name": "LATENT", "type": "LATENT", "links": [2], "slot_index": 0}], "properties": {"Node name for S&R": "EmptyLatentImage"}, "widgets_values": [512, 512, 1]},
          {"id": 3, "type": "KSampler", "pos": [863, 186], "size": {"0": 315, "1": 262}, "flags": {}, "order": 4, "mode": 0, "inputs": [{"name": "model", "type": "MODEL", "link": 1}, {"name": "positive", "type": "CONDITIONING", "link": 4}, {"name": "negative", "type": "CONDITIONING", "link": 6}, {"name": "latent_image", "type": "LATENT", "link": 2}], "outputs": [{"name": "LATENT", "type": "LATENT", "links": [7], "slot_index": 0}], "properties": {"Node name for S&R": "KSampler"}, "widgets_values": [156680208700286, "randomize", 20, 8, "euler", "normal", 1]},
          {"id": 8, "type": "VAEDecode", "pos": [1209, 188], "size": {"0": 210, "1": 46}, "flags": {}, "order": 5, "mode": 0, "inputs": [{"name": "samples", "type": "LATENT", "link": 7}, {"name": "vae", "type": "VAE", "link": 8}], "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [9], "slot_index": 0}], "properties": {"Node name for S&R": "VAEDecode"}},
          {"id": 9, "type": "SaveImage", "pos": [1451, 189], "size": {"0": 210, "1": 58}, "flags": {}, "order": 6, "mode": 0, "inputs": [{"name": "images", "type": "IMAGE", "link": 9}], "properties": {}, "widgets_values": ["ComfyUI"]},
          {"id": 4, "type": "CheckpointLoaderSimple", "pos": [26, 474], "size": {"0": 315, "1": 98}, "flags": {}, "order": 1, "mode": 0, "outputs": [{"name": "MODEL", "type": "MODEL", "links": [1], "slot_index": 0}, {"name": "CLIP", "type": "CLIP", "links": [3, 5], "slot_index": 1}, {"name": "VAE", "type": "VAE", "links": [8], "slot_index": 2}], "properties": {"Node name for S&R": "CheckpointLoaderSimple"}, "widgets_values": ["v1-5-pruned-emaonly.safetensors"]}],
         "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"], [4, 6, 0, 3, 1, "CONDITIONING"], [5, 4, 1, 7, 0, "CLIP"], [6, 7, 0, 3, 2, "CONDITIONING"], [7, 3, 0, 8, 0, "LATENT"], [8, 4, 2, 8, 1, "VAE"], [9, 8, 0, 9, 0, "IMAGE"]],
         "groups": [], "config": {}, "extra": {}, "version": 0.4}
        """;

    /// <summary>
    /// SDXL with two chained LoRA loaders, CLIP skip, a separate VAE, the positive text from a string primitive,
    /// and a hires fix: a second KSampler over LatentUpscaleBy(1.5) of the first one's latent.
    /// </summary>
    internal const string HiresLoraPrompt = """
        {"4": {"inputs": {"ckpt_name": "sdxl/juggernautXL_v9.safetensors"}, "class_type": "CheckpointLoaderSimple"},
         "10": {"inputs": {"lora_name": "add-detail-xl.safetensors", "strength_model": 0.6, "strength_clip": 0.6, "model": ["4", 0], "clip": ["4", 1]}, "class_type": "LoraLoader"},
         "11": {"inputs": {"lora_name": "styles/foxStyle_v2.safetensors", "strength_model": 0.8, "strength_clip": 1, "model": ["10", 0], "clip": ["10", 1]}, "class_type": "LoraLoader"},
         "12": {"inputs": {"stop_at_clip_layer": -2, "clip": ["11", 1]}, "class_type": "CLIPSetLastLayer"},
         "20": {"inputs": {"value": "a red fox in deep snow, golden hour, <lora:ignored:1>"}, "class_type": "PrimitiveStringMultiline"},
         "6": {"inputs": {"text": ["20", 0], "clip": ["12", 0]}, "class_type": "CLIPTextEncode"},
         "7": {"inputs": {"text": "lowres, blurry, watermark", "clip": ["12", 0]}, "class_type": "CLIPTextEncode"},
         "5": {"inputs": {"width": 832, "height": 1216, "batch_size": 1}, "class_type": "EmptyLatentImage"},
         "3": {"inputs": {"seed": 1001, "steps": 30, "cfg": 6.5, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1, "model": ["11", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}, "class_type": "KSampler"},
         "13": {"inputs": {"upscale_method": "nearest-exact", "scale_by": 1.5, "samples": ["3", 0]}, "class_type": "LatentUpscaleBy"},
         "14": {"inputs": {"seed": 1002, "steps": 15, "cfg": 6.5, "sampler_name": "dpmpp_2m_sde", "scheduler": "karras", "denoise": 0.45, "model": ["11", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["13", 0]}, "class_type": "KSampler"},
         "15": {"inputs": {"vae_name": "sdxl_vae.safetensors"}, "class_type": "VAELoader"},
         "8": {"inputs": {"samples": ["14", 0], "vae": ["15", 0]}, "class_type": "VAEDecode"},
         "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage"}}
        """;

    /// <summary>ComfyUI's Flux dev example: SamplerCustomAdvanced with RandomNoise, BasicGuider, KSamplerSelect, BasicScheduler, FluxGuidance.</summary>
    internal const string FluxPrompt = """
        {"6": {"inputs": {"text": "cute anime girl with massive fluffy fennec ears and a big fluffy tail", "clip": ["11", 0]}, "class_type": "CLIPTextEncode"},
         "8": {"inputs": {"samples": ["13", 0], "vae": ["10", 0]}, "class_type": "VAEDecode"},
         "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage"},
         "10": {"inputs": {"vae_name": "ae.safetensors"}, "class_type": "VAELoader"},
         "11": {"inputs": {"clip_name1": "t5xxl_fp16.safetensors", "clip_name2": "clip_l.safetensors", "type": "flux"}, "class_type": "DualCLIPLoader"},
         "12": {"inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}, "class_type": "UNETLoader"},
         "13": {"inputs": {"noise": ["25", 0], "guider": ["22", 0], "sampler": ["16", 0], "sigmas": ["17", 0], "latent_image": ["27", 0]}, "class_type": "SamplerCustomAdvanced"},
         "16": {"inputs": {"sampler_name": "euler"}, "class_type": "KSamplerSelect"},
         "17": {"inputs": {"scheduler": "simple", "steps": 20, "denoise": 1, "model": ["30", 0]}, "class_type": "BasicScheduler"},
         "22": {"inputs": {"model": ["30", 0], "conditioning": ["26", 0]}, "class_type": "BasicGuider"},
         "25": {"inputs": {"noise_seed": 219670278747233}, "class_type": "RandomNoise"},
         "26": {"inputs": {"guidance": 3.5, "conditioning": ["6", 0]}, "class_type": "FluxGuidance"},
         "27": {"inputs": {"width": 1024, "height": 1024, "batch_size": 1}, "class_type": "EmptySD3LatentImage"},
         "30": {"inputs": {"max_shift": 1.15, "base_shift": 0.5, "width": 1024, "height": 1024, "model": ["38", 0]}, "class_type": "ModelSamplingFlux"},
         "38": {"inputs": {"lora_name": "flux/realism_lora.safetensors", "strength_model": 0.85, "model": ["12", 0]}, "class_type": "LoraLoaderModelOnly"}}
        """;

    [Test]
    public void Default_prompt_graph()
    {
        var info = Comfy(DefaultPrompt);

        Assert.That(info.Source, Is.EqualTo(GenerationSources.ComfyUI));
        Assert.That(info.Prompt, Is.EqualTo("beautiful scenery nature glass bottle landscape, , purple galaxy bottle,"));
        Assert.That(info.NegativePrompt, Is.EqualTo("text, watermark"));
        Assert.That((info.Seed, info.Steps, info.CfgScale, info.Sampler, info.Scheduler, info.Denoise), Is.EqualTo((156680208700286L, 20, 8.0, "euler", "normal", 1.0)));
        Assert.That((info.Model, info.Width, info.Height), Is.EqualTo(("v1-5-pruned-emaonly.safetensors", 512, 512)));
        Assert.That((info.Vae, info.ClipSkip, info.HiresUpscale, info.Version), Is.EqualTo(((string?)null, (int?)null, (double?)null, (string?)null)));
        Assert.That(info.Samplers, Is.EqualTo(1));
        Assert.That(info.Loras, Is.Empty);
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void Default_workflow_alone_reads_the_same_as_its_prompt()
    {
        var fromPrompt = Comfy(DefaultPrompt);
        var fromWorkflow = GenerationParser.Parse(new Dictionary<string, string> { ["workflow"] = DefaultWorkflow }, null);

        Assert.That(fromWorkflow, Is.Not.Null);
        Assert.That(fromWorkflow! with { Loras = fromPrompt.Loras, Warnings = fromPrompt.Warnings }, Is.EqualTo(fromPrompt));
        Assert.That(fromWorkflow.Warnings, Is.Empty);
    }

    [Test]
    public void Prompt_wins_over_workflow()
    {
        var workflow = DefaultWorkflow.Replace("text, watermark", "from the workflow", StringComparison.Ordinal);

        var info = GenerationParser.Parse(new Dictionary<string, string> { ["prompt"] = DefaultPrompt, ["workflow"] = workflow }, null)!;

        Assert.That(info.NegativePrompt, Is.EqualTo("text, watermark"));
    }

    [Test]
    public void Hires_fix_with_lora_chain_reads_the_final_sampler()
    {
        var info = Comfy(HiresLoraPrompt);

        Assert.That(info.Samplers, Is.EqualTo(2));
        Assert.That((info.Seed, info.Steps, info.Sampler, info.Denoise), Is.EqualTo((1002L, 15, "dpmpp_2m_sde", 0.45)), "the second pass's settings");
        Assert.That((info.Width, info.Height), Is.EqualTo((832, 1216)), "the empty latent's size, behind the first sampler");
        Assert.That((info.HiresUpscale, info.HiresUpscaler), Is.EqualTo((1.5, "nearest-exact")));
        Assert.That(info.Prompt, Is.EqualTo("a red fox in deep snow, golden hour, <lora:ignored:1>"), "text linked from a string primitive");
        Assert.That(info.NegativePrompt, Is.EqualTo("lowres, blurry, watermark"));
        Assert.That((info.Model, info.Vae, info.ClipSkip), Is.EqualTo(("sdxl/juggernautXL_v9.safetensors", "sdxl_vae.safetensors", 2)));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("add-detail-xl.safetensors", 0.6), new Lora("styles/foxStyle_v2.safetensors", 0.8) }),
            "loader nodes in the order applied; a <lora:> tag in a ComfyUI prompt is plain text");
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void Flux_custom_sampler_follows_noise_guider_sampler_and_sigmas()
    {
        var info = Comfy(FluxPrompt);

        Assert.That(info.Prompt, Is.EqualTo("cute anime girl with massive fluffy fennec ears and a big fluffy tail"), "through FluxGuidance");
        Assert.That(info.NegativePrompt, Is.Null, "BasicGuider has no negative");
        Assert.That((info.Seed, info.Steps, info.Sampler, info.Scheduler, info.Denoise), Is.EqualTo((219670278747233L, 20, "euler", "simple", 1.0)));
        Assert.That(info.CfgScale, Is.Null, "BasicGuider has no cfg");
        Assert.That((info.Model, info.Vae, info.Width, info.Height), Is.EqualTo(("flux1-dev.safetensors", "ae.safetensors", 1024, 1024)));
        Assert.That(info.Loras, Is.EqualTo(new[] { new Lora("flux/realism_lora.safetensors", 0.85) }));
        Assert.That(info.Warnings, Is.Empty);
    }

    [Test]
    public void Cfg_guider_zero_out_negative_and_karras_sigmas()
    {
        var prompt = """
            {"1": {"inputs": {"ckpt_name": "sd3.5_medium.safetensors"}, "class_type": "CheckpointLoaderSimple"},
             "2": {"inputs": {"clip_l": "a lighthouse", "clip_g": "a lighthouse", "t5xxl": "a lighthouse on a cliff at dusk", "empty_padding": "none", "clip": ["1", 1]}, "class_type": "CLIPTextEncodeSD3"},
             "3": {"inputs": {"conditioning": ["2", 0]}, "class_type": "ConditioningZeroOut"},
             "4": {"inputs": {"cfg": 4.5, "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0]}, "class_type": "CFGGuider"},
             "5": {"inputs": {"noise_seed": 42}, "class_type": "RandomNoise"},
             "6": {"inputs": {"eta": 1, "s_noise": 1, "noise_device": "gpu"}, "class_type": "SamplerDPMPP_3M_SDE"},
             "7": {"inputs": {"steps": 28, "sigma_max": 14.61, "sigma_min": 0.03, "rho": 7}, "class_type": "KarrasScheduler"},
             "8": {"inputs": {"width": 1024, "height": 1536, "batch_size": 1}, "class_type": "EmptySD3LatentImage"},
             "9": {"inputs": {"noise": ["5", 0], "guider": ["4", 0], "sampler": ["6", 0], "sigmas": ["7", 0], "latent_image": ["8", 0]}, "class_type": "SamplerCustomAdvanced"}}
            """;

        var info = Comfy(prompt);

        Assert.That(info.Prompt, Is.EqualTo("a lighthouse on a cliff at dusk\na lighthouse"), "t5xxl first, then the distinct CLIP text");
        Assert.That(info.NegativePrompt, Is.Null, "ConditioningZeroOut is an empty negative, not the positive text");
        Assert.That((info.CfgScale, info.Seed, info.Steps), Is.EqualTo((4.5, 42L, 28)));
        Assert.That((info.Sampler, info.Scheduler), Is.EqualTo(("SamplerDPMPP_3M_SDE", "karras")), "sampler and schedule nodes named by their type");
    }

    [Test]
    public void Sdxl_refiner_pair_reads_the_refiner_pass()
    {
        var prompt = """
            {"4": {"inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}, "class_type": "CheckpointLoaderSimple"},
             "12": {"inputs": {"ckpt_name": "sd_xl_refiner_1.0.safetensors"}, "class_type": "CheckpointLoaderSimple"},
             "6": {"inputs": {"width": 4096, "height": 4096, "crop_w": 0, "crop_h": 0, "target_width": 4096, "target_height": 4096, "text_g": "a cabin in the woods", "text_l": "a cabin in the woods", "clip": ["4", 1]}, "class_type": "CLIPTextEncodeSDXL"},
             "7": {"inputs": {"text": "blurry", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "15": {"inputs": {"ascore": 6, "width": 4096, "height": 4096, "text": "a cabin in the woods, film photo", "clip": ["12", 1]}, "class_type": "CLIPTextEncodeSDXLRefiner"},
             "16": {"inputs": {"ascore": 2.5, "width": 4096, "height": 4096, "text": "blurry", "clip": ["12", 1]}, "class_type": "CLIPTextEncodeSDXLRefiner"},
             "5": {"inputs": {"width": 1024, "height": 1024, "batch_size": 1}, "class_type": "EmptyLatentImage"},
             "10": {"inputs": {"add_noise": "enable", "noise_seed": 721897303308196, "steps": 25, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "start_at_step": 0, "end_at_step": 20, "return_with_leftover_noise": "enable", "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}, "class_type": "KSamplerAdvanced"},
             "11": {"inputs": {"add_noise": "disable", "noise_seed": 0, "steps": 25, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "start_at_step": 20, "end_at_step": 10000, "return_with_leftover_noise": "disable", "model": ["12", 0], "positive": ["15", 0], "negative": ["16", 0], "latent_image": ["10", 0]}, "class_type": "KSamplerAdvanced"},
             "17": {"inputs": {"samples": ["11", 0], "vae": ["12", 2]}, "class_type": "VAEDecode"},
             "19": {"inputs": {"filename_prefix": "ComfyUI", "images": ["17", 0]}, "class_type": "SaveImage"}}
            """;

        var info = Comfy(prompt);

        Assert.That(info.Samplers, Is.EqualTo(2));
        Assert.That((info.Model, info.Prompt, info.Steps, info.Seed), Is.EqualTo(("sd_xl_refiner_1.0.safetensors", "a cabin in the woods, film photo", 25, 0L)));
        Assert.That((info.Width, info.Height, info.HiresUpscale), Is.EqualTo((1024, 1024, (double?)null)), "no upscale between the passes");
    }

    [Test]
    public void ControlNet_apply_advanced_passes_positive_and_negative_by_slot()
    {
        var prompt = """
            {"4": {"inputs": {"ckpt_name": "model.safetensors"}, "class_type": "CheckpointLoaderSimple"},
             "6": {"inputs": {"text": "a dancer", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "7": {"inputs": {"text": "extra limbs", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "20": {"inputs": {"strength": 0.8, "start_percent": 0, "end_percent": 1, "positive": ["6", 0], "negative": ["7", 0], "control_net": ["21", 0], "image": ["22", 0]}, "class_type": "ControlNetApplyAdvanced"},
             "21": {"inputs": {"control_net_name": "openpose.safetensors"}, "class_type": "ControlNetLoader"},
             "22": {"inputs": {"image": "pose.png"}, "class_type": "LoadImage"},
             "5": {"inputs": {"width": 768, "height": 768, "batch_size": 1}, "class_type": "EmptyLatentImage"},
             "3": {"inputs": {"seed": 7, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["20", 0], "negative": ["20", 1], "latent_image": ["5", 0]}, "class_type": "KSampler"}}
            """;

        var info = Comfy(prompt);

        Assert.That((info.Prompt, info.NegativePrompt), Is.EqualTo(("a dancer", "extra limbs")));
    }

    [Test]
    public void Concatenated_and_combined_text_is_resolved()
    {
        var prompt = """
            {"4": {"inputs": {"ckpt_name": "model.safetensors"}, "class_type": "CheckpointLoaderSimple"},
             "30": {"inputs": {"string_a": "a red fox", "string_b": "watercolor", "delimiter": ", "}, "class_type": "StringConcatenate"},
             "6": {"inputs": {"text": ["30", 0], "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "31": {"inputs": {"text": "snowy forest", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "32": {"inputs": {"conditioning_1": ["6", 0], "conditioning_2": ["31", 0]}, "class_type": "ConditioningCombine"},
             "5": {"inputs": {"width": 512, "height": 512, "batch_size": 1}, "class_type": "EmptyLatentImage"},
             "3": {"inputs": {"seed": 7, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["32", 0], "negative": ["31", 0], "latent_image": ["5", 0]}, "class_type": "KSampler"}}
            """;

        var info = Comfy(prompt);

        Assert.That(info.Prompt, Is.EqualTo("a red fox, watercolor\nsnowy forest"));
    }

    [Test]
    public void Two_unrelated_final_samplers_take_the_saved_one()
    {
        var prompt = """
            {"4": {"inputs": {"ckpt_name": "model.safetensors"}, "class_type": "CheckpointLoaderSimple"},
             "6": {"inputs": {"text": "saved", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "7": {"inputs": {"text": "preview only", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "5": {"inputs": {"width": 512, "height": 512, "batch_size": 1}, "class_type": "EmptyLatentImage"},
             "3": {"inputs": {"seed": 1, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}, "class_type": "KSampler"},
             "13": {"inputs": {"seed": 2, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["7", 0], "negative": ["6", 0], "latent_image": ["5", 0]}, "class_type": "KSampler"},
             "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "class_type": "VAEDecode"},
             "9": {"inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "class_type": "SaveImage"},
             "18": {"inputs": {"samples": ["13", 0], "vae": ["4", 2]}, "class_type": "VAEDecode"},
             "19": {"inputs": {"images": ["18", 0]}, "class_type": "PreviewImage"}}
            """;

        var info = Comfy(prompt);

        Assert.That((info.Samplers, info.Seed, info.Prompt), Is.EqualTo((2, 1L, "saved")));
    }

    [Test]
    public void Linked_seed_and_seed_beyond_64_bits()
    {
        var prompt = """
            {"4": {"inputs": {"ckpt_name": "model.safetensors"}, "class_type": "CheckpointLoaderSimple"},
             "40": {"inputs": {"seed": 18446744073709551615}, "class_type": "Seed (rgthree)"},
             "6": {"inputs": {"text": "a fox", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
             "5": {"inputs": {"width": 512, "height": 512, "batch_size": 1}, "class_type": "EmptyLatentImage"},
             "3": {"inputs": {"seed": ["40", 0], "steps": ["41", 0], "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["6", 0], "latent_image": ["5", 0]}, "class_type": "KSampler"},
             "41": {"inputs": {"value": 24}, "class_type": "PrimitiveInt"}}
            """;

        var info = Comfy(prompt);

        Assert.That(info.Steps, Is.EqualTo(24), "steps through a linked int primitive");
        Assert.That(info.Seed, Is.Null);
        Assert.That(info.Warnings, Has.One.Contains("does not fit a signed 64-bit value"));
    }

    [Test]
    public void Workflow_with_reroute_bypassed_lora_muted_sampler_and_primitive_seed()
    {
        var workflow = """
            {"last_node_id": 14, "last_link_id": 20, "nodes": [
              {"id": 4, "type": "CheckpointLoaderSimple", "mode": 0, "outputs": [{"name": "MODEL", "type": "MODEL", "links": [10]}, {"name": "CLIP", "type": "CLIP", "links": [11, 5]}, {"name": "VAE", "type": "VAE", "links": [8]}], "widgets_values": ["dreamshaper_8.safetensors"]},
              {"id": 10, "type": "LoraLoader", "mode": 4, "inputs": [{"name": "model", "type": "MODEL", "link": 10}, {"name": "clip", "type": "CLIP", "link": 11}], "outputs": [{"name": "MODEL", "type": "MODEL", "links": [1]}, {"name": "CLIP", "type": "CLIP", "links": [3]}], "widgets_values": ["bypassed.safetensors", 1, 1]},
              {"id": 6, "type": "CLIPTextEncode", "mode": 0, "inputs": [{"name": "clip", "type": "CLIP", "link": 3}], "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [12]}], "widgets_values": ["a castle on a hill"]},
              {"id": 11, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "type": "*", "link": 12}], "outputs": [{"name": "", "type": "CONDITIONING", "links": [4]}]},
              {"id": 7, "type": "CLIPTextEncode", "mode": 0, "inputs": [{"name": "clip", "type": "CLIP", "link": 5}], "outputs": [{"name": "CONDITIONING", "type": "CONDITIONING", "links": [6]}], "widgets_values": ["fog"]},
              {"id": 5, "type": "EmptyLatentImage", "mode": 0, "outputs": [{"name": "LATENT", "type": "LATENT", "links": [2, 14]}], "widgets_values": [640, 960, 1]},
              {"id": 12, "type": "PrimitiveNode", "mode": 0, "outputs": [{"name": "INT", "type": "INT", "links": [13], "widget": {"name": "seed"}}], "widgets_values": [987654321, "fixed"]},
              {"id": 3, "type": "KSampler", "mode": 0, "inputs": [{"name": "model", "type": "MODEL", "link": 1}, {"name": "positive", "type": "CONDITIONING", "link": 4}, {"name": "negative", "type": "CONDITIONING", "link": 6}, {"name": "latent_image", "type": "LATENT", "link": 2}, {"name": "seed", "type": "INT", "widget": {"name": "seed"}, "link": 13}], "outputs": [{"name": "LATENT", "type": "LATENT", "links": [7]}], "widgets_values": [1, "randomize", 25, 7, "dpmpp_2m", "karras", 1]},
              {"id": 13, "type": "KSampler", "mode": 2, "inputs": [{"name": "model", "type": "MODEL", "link": 1}, {"name": "latent_image", "type": "LATENT", "link": 14}], "outputs": [{"name": "LATENT", "type": "LATENT", "links": []}], "widgets_values": [5, "randomize", 99, 7, "euler", "normal", 1]},
              {"id": 8, "type": "VAEDecode", "mode": 0, "inputs": [{"name": "samples", "type": "LATENT", "link": 7}, {"name": "vae", "type": "VAE", "link": 8}], "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [9]}]},
              {"id": 9, "type": "SaveImage", "mode": 0, "inputs": [{"name": "images", "type": "IMAGE", "link": 9}], "widgets_values": ["ComfyUI"]}],
             "links": [[1, 10, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 10, 1, 6, 0, "CLIP"], [4, 11, 0, 3, 1, "CONDITIONING"], [5, 4, 1, 7, 0, "CLIP"], [6, 7, 0, 3, 2, "CONDITIONING"], [7, 3, 0, 8, 0, "LATENT"], [8, 4, 2, 8, 1, "VAE"], [9, 8, 0, 9, 0, "IMAGE"], [10, 4, 0, 10, 0, "MODEL"], [11, 4, 1, 10, 1, "CLIP"], [12, 6, 0, 11, 0, "CONDITIONING"], [13, 12, 0, 3, 4, "INT"], [14, 5, 0, 13, 3, "LATENT"]],
             "version": 0.4}
            """;

        var info = GenerationParser.Parse(new Dictionary<string, string> { ["workflow"] = workflow }, null)!;

        Assert.That(info.Samplers, Is.EqualTo(1), "the muted sampler does not run");
        Assert.That(info.Prompt, Is.EqualTo("a castle on a hill"), "through the Reroute");
        Assert.That(info.Seed, Is.EqualTo(987654321L), "from the primitive node converted from the seed widget");
        Assert.That((info.Steps, info.Sampler, info.Scheduler, info.Width, info.Height), Is.EqualTo((25, "dpmpp_2m", "karras", 640, 960)));
        Assert.That(info.Model, Is.EqualTo("dreamshaper_8.safetensors"), "through the bypassed LoRA loader");
        Assert.That(info.Loras, Is.Empty, "a bypassed loader applies nothing");
    }

    [Test]
    public void Workflow_links_in_object_form()
    {
        var workflow = DefaultWorkflow.Replace(
            "\"links\": [[1, 4, 0, 3, 0, \"MODEL\"]",
            "\"links\": [{\"id\": 1, \"origin_id\": 4, \"origin_slot\": 0, \"target_id\": 3, \"target_slot\": 0, \"type\": \"MODEL\"}",
            StringComparison.Ordinal);

        var info = GenerationParser.Parse(new Dictionary<string, string> { ["workflow"] = workflow }, null)!;

        Assert.That(info.Model, Is.EqualTo("v1-5-pruned-emaonly.safetensors"));
    }

    [Test]
    public void Graph_without_sampler_keeps_the_first_text_with_a_warning()
    {
        var info = Comfy("""{"6": {"inputs": {"text": "only a prompt", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"}}""");

        Assert.That((info.Source, info.Prompt, info.Samplers), Is.EqualTo((GenerationSources.ComfyUI, "only a prompt", 0)));
        Assert.That(info.Warnings, Has.One.Contains("no sampler"));
    }

    [Test]
    public void Samplers_feeding_each_other_in_a_loop_end()
    {
        var prompt = """
            {"1": {"inputs": {"seed": 1, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["2", 0], "positive": ["3", 0], "negative": ["3", 0], "latent_image": ["2", 0]}, "class_type": "KSampler"},
             "2": {"inputs": {"seed": 2, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["1", 0], "positive": ["3", 0], "negative": ["3", 0], "latent_image": ["1", 0]}, "class_type": "KSampler"},
             "3": {"inputs": {"conditioning": ["3", 0]}, "class_type": "ConditioningSetArea"}}
            """;

        var info = Comfy(prompt);

        Assert.That(info.Samplers, Is.EqualTo(2));
        Assert.That(info.Warnings, Has.Some.Contains("loop"));
    }

    [TestCase("{\"3\": {\"class_type\": \"KSampler\", \"inputs\": {", "not valid JSON")]
    [TestCase("{\"a\": 1}", "not a ComfyUI graph")]
    public void Malformed_prompt_is_a_warning(string prompt, string warning)
    {
        var info = Comfy(prompt);

        Assert.That((info.Source, info.Samplers), Is.EqualTo((GenerationSources.ComfyUI, 0)));
        Assert.That(info.Warnings, Has.Some.Contains(warning));
    }

    [TestCase("a castle, by another program")]
    [TestCase("[1, 2, 3]")]
    public void Prompt_chunk_that_is_no_json_object_is_not_claimed_for_comfyui(string prompt)
    {
        var info = Comfy(prompt);

        Assert.That((info.Source, info.Prompt), Is.EqualTo((GenerationSources.Unknown, (string?)null)));
        Assert.That(info.Warnings, Has.One.Contains("not a ComfyUI graph"));
    }

    private static GenerationInfo Comfy(string prompt) =>
        GenerationParser.Parse(new Dictionary<string, string> { ["prompt"] = prompt }, null)
        ?? throw new AssertionException("a prompt chunk always yields a record");
}
