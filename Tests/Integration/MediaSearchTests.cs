using System.Net;
using System.Text.Json.Nodes;
using IngestLite.Catalog;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>
/// Catalog search and facets over rows written straight through the session store (the ingest's own write
/// path), each test in its own folder so the filters can be checked exactly.
/// </summary>
[Category("Catalog")]
public sealed class MediaSearchTests : ApiTest
{
    private async Task WriteAsync(params MediaRecord[] records)
    {
        var store = App.Services.GetRequiredService<ISessionStore>();
        var ord = 0;
        foreach (var record in records)
        {
            var result = new SessionFileResult(record.Path, FileStates.Committed, "commit", null, record.Size, 0);
            await store.CommitFileAsync("search-" + Folder, ++ord, record, result, new FileTally(true, true, 0, false, 0), CancellationToken.None);
        }
    }

    private MediaRecord Image(string name, string? prompt = null, string? model = null, string? sampler = null, string? scheduler = null,
        int? steps = null, double? cfg = null, long? seed = null, int width = 1024, int height = 1024, double? score = null,
        IReadOnlyList<LoraUse>? loras = null, string? negative = null, DateTimeOffset? modified = null, string kind = "image") =>
        new($"{Folder}/{name}", 1000, modified ?? new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero), kind, new string('a', 64),
            width, height, null, null, prompt, negative, steps, sampler, cfg, seed, model, Loras: loras?.Select(l => l.Name).ToList(),
            Score: score, Scheduler: scheduler, Generator: prompt is null ? null : "a1111", LoraWeights: loras);

    private async Task<List<string>> NamesAsync(string query)
    {
        using var response = await Http.GetAsync($"api/media?folder={Folder}&{(query.Contains("limit=", StringComparison.Ordinal) ? "" : "limit=1000&")}{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"{query}: {text}");
        var body = IngestClient.Parse(text);
        return [.. body["items"]!.AsArray().Select(i => i!["path"]!.GetValue<string>()[(Folder.Length + 1)..])];
    }

    [Test]
    public async Task Full_text_finds_words_prefixes_and_phrases_in_prompts_paths_and_keywords()
    {
        await WriteAsync(
            Image("castle.png", prompt: "a misty castle on a hill, golden hour", negative: "blurry"),
            Image("forest.png", prompt: "a dark forest, castle ruins in the distance"),
            Image("portrait-of-a-cat.png", prompt: "studio portrait"));

        Assert.That(await NamesAsync("q=castle"), Is.EquivalentTo(new[] { "castle.png", "forest.png" }));
        Assert.That(await NamesAsync("q=gold*"), Is.EqualTo(new[] { "castle.png" }), "prefix");
        Assert.That(await NamesAsync("q=%22golden%20hour%22"), Is.EqualTo(new[] { "castle.png" }), "phrase");
        Assert.That(await NamesAsync("q=%22hour%20golden%22"), Is.Empty, "a phrase keeps its order");
        Assert.That(await NamesAsync("q=castle%20ruins"), Is.EqualTo(new[] { "forest.png" }), "every word is required");
        Assert.That(await NamesAsync("q=blurry"), Is.EqualTo(new[] { "castle.png" }), "the negative prompt is searched");
        Assert.That(await NamesAsync("q=cat"), Is.EqualTo(new[] { "portrait-of-a-cat.png" }), "the path is searched");
        Assert.That(await NamesAsync("q=castle%20OR%20NOT%20%22%20%2A%20(%20-:"), Is.Empty, "operators and punctuation are plain text, never a syntax error");
    }

    [Test]
    public async Task Filters_combine_and_LoRAs_match_any_or_all()
    {
        await WriteAsync(
            Image("a.png", prompt: "x", model: "sdxl", sampler: "Euler a", scheduler: "Karras", steps: 20, cfg: 7, seed: 1, score: 4,
                loras: [new LoraUse("detail", 0.8), new LoraUse("style", 0.5)]),
            Image("b.png", prompt: "x", model: "sdxl", sampler: "DPM++ 2M", scheduler: "Karras", steps: 30, cfg: 5.5, seed: 2, score: 2,
                loras: [new LoraUse("detail", 1)]),
            Image("c.png", prompt: "x", model: "flux", sampler: "Euler", steps: 40, cfg: 3.5, seed: 3, width: 832, height: 1216),
            Image("clip.mp4", kind: "video", width: 640, height: 360));

        Assert.That(await NamesAsync("model=sdxl"), Is.EquivalentTo(new[] { "a.png", "b.png" }));
        Assert.That(await NamesAsync("model=sdxl&model=flux&sampler=Euler"), Is.EqualTo(new[] { "c.png" }));
        Assert.That(await NamesAsync("scheduler=Karras&steps_min=25"), Is.EqualTo(new[] { "b.png" }));
        Assert.That(await NamesAsync("cfg_min=3&cfg_max=6"), Is.EquivalentTo(new[] { "b.png", "c.png" }));
        Assert.That(await NamesAsync("seed=3"), Is.EqualTo(new[] { "c.png" }));
        Assert.That(await NamesAsync("width_max=900"), Is.EquivalentTo(new[] { "c.png", "clip.mp4" }));
        Assert.That(await NamesAsync("height_min=1100"), Is.EqualTo(new[] { "c.png" }));
        Assert.That(await NamesAsync("score_min=3"), Is.EqualTo(new[] { "a.png" }));
        Assert.That(await NamesAsync("kind=video"), Is.EqualTo(new[] { "clip.mp4" }));
        Assert.That(await NamesAsync("lora=detail&lora=style"), Is.EquivalentTo(new[] { "a.png", "b.png" }), "any, by default");
        Assert.That(await NamesAsync("lora=detail&lora=style&lora_mode=all"), Is.EqualTo(new[] { "a.png" }));

        var a = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Folder}&lora=style"))["items"]![0]!["parameters"]!;
        Assert.That(a["model"]!.GetValue<string>(), Is.EqualTo("sdxl"));
        Assert.That(a["scheduler"]!.GetValue<string>(), Is.EqualTo("Karras"));
        Assert.That(a["loras"]!.AsArray().Select(l => $"{l!["name"]}:{l["weight"]}"), Is.EqualTo(new[] { "detail:0.8", "style:0.5" }));
    }

    [Test]
    public async Task Folder_date_and_sort()
    {
        var day = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        await WriteAsync(
            Image("b.png", score: 1, modified: day),
            Image("sub/a.png", score: 5, modified: day.AddDays(2)),
            Image("c.png", score: 3, modified: day.AddDays(4)));

        Assert.That(await NamesAsync(""), Is.EqualTo(new[] { "c.png", "sub/a.png", "b.png" }), "newest first by default");
        Assert.That(await NamesAsync("sort=score"), Is.EqualTo(new[] { "sub/a.png", "c.png", "b.png" }));
        Assert.That(await NamesAsync("sort=name"), Is.EqualTo(new[] { "sub/a.png", "b.png", "c.png" }), "by file name");
        Assert.That(await NamesAsync("date_min=2026-10-02&date_max=2026-10-04"), Is.EqualTo(new[] { "sub/a.png" }));
        var sub = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Folder}/sub"))["items"]!.AsArray();
        Assert.That(sub.Select(i => i!["path"]!.GetValue<string>()), Is.EqualTo(new[] { $"{Folder}/sub/a.png" }), "a folder includes its sub-folders, and only those");
        Assert.That(await NamesAsync("limit=1&offset=1"), Is.EqualTo(new[] { "sub/a.png" }), "paging");
    }

    [Test]
    public async Task Facets_count_the_top_values_under_the_current_filters()
    {
        await WriteAsync(
            Image("a.png", prompt: "cat", model: "sdxl", sampler: "Euler a", loras: [new LoraUse("detail", 0.8)]),
            Image("b.png", prompt: "cat", model: "sdxl", sampler: "Euler a", loras: [new LoraUse("detail", 1), new LoraUse("style", 1)]),
            Image("c.png", prompt: "dog", model: "flux", sampler: "Euler", width: 832, height: 1216));

        var all = IngestClient.Parse(await Http.GetStringAsync($"api/media/facets?folder={Folder}"));
        Assert.That(Facet(all, "model"), Is.EqualTo(new[] { "sdxl:2", "flux:1" }));
        Assert.That(Facet(all, "sampler"), Is.EqualTo(new[] { "Euler a:2", "Euler:1" }));
        Assert.That(Facet(all, "lora"), Is.EqualTo(new[] { "detail:2", "style:1" }));
        Assert.That(Facet(all, "size"), Is.EqualTo(new[] { "1024x1024:2", "832x1216:1" }));

        var dogs = IngestClient.Parse(await Http.GetStringAsync($"api/media/facets?folder={Folder}&q=dog"));
        Assert.That(Facet(dogs, "model"), Is.EqualTo(new[] { "flux:1" }), "under the text filter");
        Assert.That(Facet(dogs, "lora"), Is.Empty);

        static IEnumerable<string> Facet(JsonObject facets, string name) =>
            facets[name]!.AsArray().Select(v => $"{v!["value"]!.GetValue<string>()}:{v["count"]!.GetValue<int>()}");
    }

    [Test]
    public async Task Ingested_generation_parameters_come_back_as_fields_and_filter()
    {
        MediaFactory.WritePng(Path.Combine(FolderPath, "a1111.png"), 32, 48, [("parameters", Unit.GenerationA1111Tests.A1111Sdxl)], seed: 1);
        MediaFactory.WritePng(Path.Combine(FolderPath, "comfy.png"), 32, 32, [("prompt", Unit.GenerationComfyTests.HiresLoraPrompt)], seed: 2);
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));

        var a1111 = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Folder}&model=sd_xl_base_1.0"))["items"]!.AsArray().Single()!;
        var p = a1111["parameters"]!;
        Assert.That(p["generator"]!.GetValue<string>(), Is.EqualTo("a1111"));
        Assert.That((p["sampler"]!.GetValue<string>(), p["scheduler"]!.GetValue<string>(), p["steps"]!.GetValue<int>(), p["cfg_scale"]!.GetValue<double>(), p["seed"]!.GetValue<long>()),
            Is.EqualTo(("DPM++ 2M", "Karras", 28, 6.5, 2871923459L)));
        Assert.That((p["vae"]!.GetValue<string>(), p["denoise"]!.GetValue<double>(), p["clip_skip"]!.GetValue<int>(), p["hires_upscale"]!.GetValue<double>()),
            Is.EqualTo(("sdxl_vae.safetensors", 0.45, 2, 1.5)));
        Assert.That(p["negative_prompt"]!.GetValue<string>(), Does.StartWith("lowres"));
        Assert.That(p["loras"]!.AsArray().Select(l => $"{l!["name"]}:{l["weight"]}"), Is.EquivalentTo(new[] { "add_detail:0.6", "foxStyle_v2:0.8" }));
        Assert.That(await NamesAsync("lora=foxStyle_v2&scheduler=Karras&steps_min=28"), Is.EqualTo(new[] { "a1111.png" }));

        var comfy = IngestClient.Parse(await Http.GetStringAsync($"api/media?folder={Folder}&q=comfy"))["items"]!.AsArray().Single()!;
        Assert.That(comfy["parameters"]!["generator"]!.GetValue<string>(), Is.EqualTo("comfyui"));
        Assert.That(comfy["parameters"]!["model"], Is.Not.Null);
    }

    [Test]
    public async Task Reparse_rereads_the_metadata_of_catalogued_files_without_hashing_them_again()
    {
        MediaFactory.WritePng(Path.Combine(FolderPath, "old.png"), 32, 48, [("parameters", Unit.GenerationA1111Tests.A1111Sdxl)], seed: 4);
        await Api.WaitForEndAsync(await Api.StartAsync(new { directory = Folder }));
        var catalog = App.Services.GetRequiredService<IMediaCatalog>();
        var before = (await catalog.GetMediaAsync($"{Folder}/old.png", CancellationToken.None))!;

        // As an older parser left it: no generation fields.
        await catalog.ReplaceAsync(before with { Model = null, Sampler = null, Scheduler = null, Steps = null, Loras = null, LoraWeights = null, Generator = null }, CancellationToken.None);
        Assert.That(await NamesAsync("model=sd_xl_base_1.0"), Is.Empty);

        using var response = await Http.PostAsync("api/media/reparse", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var job = IngestClient.Parse(await response.Content.ReadAsStringAsync())["job_id"]!.GetValue<string>();
        var monitoring = App.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); monitoring.JobDetails(job)?.History.FirstOrDefault()?.StateName != "Succeeded"; await Task.Delay(20))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the re-read did not finish");
        }

        Assert.That(await NamesAsync("model=sd_xl_base_1.0&scheduler=Karras&lora=foxStyle_v2"), Is.EqualTo(new[] { "old.png" }));
        var after = (await catalog.GetMediaAsync($"{Folder}/old.png", CancellationToken.None))!;
        Assert.That((after.Sha256, after.PerceptualHash, after.IngestedAt, after.SessionId), Is.EqualTo((before.Sha256, before.PerceptualHash, before.IngestedAt, before.SessionId)),
            "not hashed again: the row keeps its hashes, ingest time and session");
    }

    [TestCase("limit=0", "limit")]
    [TestCase("sort=size", "sort")]
    [TestCase("steps_min=many", "steps_min")]
    [TestCase("cfg_max=NaN", "cfg_max")]
    [TestCase("steps_min=30&steps_max=20", "steps_min")]
    [TestCase("date_min=yesterday", "date_min")]
    [TestCase("lora_mode=some", "lora_mode")]
    [TestCase("kind=audio", "kind")]
    [TestCase("folder=../etc", "folder")]
    public async Task A_bad_parameter_is_a_400_naming_it(string query, string field)
    {
        // Paging and sorting are the search's own; every filter is checked by both endpoints.
        foreach (var url in field is "limit" or "sort" ? [$"api/media?{query}"] : new[] { $"api/media?{query}", $"api/media/facets?{query}" })
        {
            using var response = await Http.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), url);
            Assert.That(IngestClient.Parse(body)["errors"]![field], Is.Not.Null, body);
        }
    }
}
