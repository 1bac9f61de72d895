using System.Diagnostics;
using System.Text;
using IngestLite.Jobs.Stages.Generation;

namespace IngestLite.Tests.Unit;

/// <summary>
/// Hostile and broken metadata: truncations of every sample at many lengths, random bytes, deep nesting,
/// huge lines, cyclic graphs. The parser must return (a record with warnings, or null) and never throw.
/// Also prints, without asserting, what one parse costs.
/// </summary>
public sealed class GenerationRobustnessTests
{
    private static readonly (string Key, string Text)[] Samples =
    [
        ("parameters", GenerationA1111Tests.A1111Sdxl),
        ("parameters", GenerationA1111Tests.ForgeFlux),
        ("parameters", GenerationA1111Tests.SdNext),
        ("prompt", GenerationComfyTests.DefaultPrompt),
        ("prompt", GenerationComfyTests.HiresLoraPrompt),
        ("prompt", GenerationComfyTests.FluxPrompt),
        ("workflow", GenerationComfyTests.DefaultWorkflow),
        ("invokeai_metadata", GenerationJsonSourcesTests.InvokeAI4),
        ("Comment", GenerationJsonSourcesTests.NovelAIComment),
        ("parameters", GenerationJsonSourcesTests.FooocusJson),
        ("parameters", GenerationJsonSourcesTests.SwarmJson),
    ];

    [Test]
    public void Every_truncation_of_every_sample_parses_without_throwing()
    {
        var parsed = 0;
        foreach (var (key, text) in Samples)
        {
            var step = Math.Max(1, text.Length / 97);
            for (var length = 0; length <= text.Length; length += step)
            {
                var info = ParseSafely(new Dictionary<string, string> { [key] = text[..length] }, $"{key} cut at {length}");
                parsed += info is null ? 0 : 1;
            }
        }

        Assert.That(parsed, Is.GreaterThan(Samples.Length * 50), "most truncations still yield a record (with warnings)");
    }

    [Test]
    public void Random_bytes_and_mutations_parse_without_throwing()
    {
        var random = new Random(20240611);
        foreach (var key in new[] { "parameters", "prompt", "workflow", "invokeai_metadata", "Comment", "sui_image_params" })
        {
            for (var i = 0; i < 40; i++)
            {
                var bytes = new byte[random.Next(0, 600)];
                random.NextBytes(bytes);
                ParseSafely(new Dictionary<string, string> { [key] = Encoding.Latin1.GetString(bytes), ["Software"] = "NovelAI" }, $"{key} random #{i}");
                var raw = new byte[random.Next(0, 64)];
                random.NextBytes(raw);
                ParseSafely(new Dictionary<string, string>(), $"user comment #{i}", ExifUserComment.Decode(raw));
            }
        }

        foreach (var (key, text) in Samples)
        {
            var chars = text.ToCharArray();
            for (var i = 0; i < 60; i++)
            {
                var mutated = (char[])chars.Clone();
                for (var j = 0; j < 5; j++)
                {
                    mutated[random.Next(mutated.Length)] = "{}[]\",:\n\\0x"[random.Next(11)];
                }

                ParseSafely(new Dictionary<string, string> { [key] = new string(mutated) }, $"{key} mutation #{i}");
            }
        }
    }

    [Test]
    public void Deep_nesting_is_a_warning()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);

        var info = ParseSafely(new Dictionary<string, string> { ["prompt"] = deep, ["invokeai_metadata"] = "{\"a\":" + deep + "}" }, "deep");

        Assert.That(info?.Warnings, Has.Some.Contains("not valid JSON").Or.Some.Contains("not a ComfyUI graph"));
    }

    [Test]
    public void A_huge_settings_like_line_stays_fast()
    {
        // One setting, then a long run of key characters with no colon after it: each start position scans to
        // the end of the line, the quadratic worst case of A1111's settings regex, cut short by its timeout.
        var line = "k: v, " + string.Concat(Enumerable.Repeat("word ", 40_000));
        var clock = Stopwatch.StartNew();

        var info = ParseSafely(new Dictionary<string, string> { ["parameters"] = "a prompt\n" + line }, "huge line");

        Assert.That(info, Is.Not.Null);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "bounded by the regex timeout, not by the input");
    }

    [Test]
    public void A_graph_whose_nodes_all_link_in_a_ring_ends()
    {
        var nodes = Enumerable.Range(0, 300).Select(i =>
            $"\"{i}\": {{\"class_type\": \"KSampler\", \"inputs\": {{\"model\": [\"{(i + 1) % 300}\", 0], \"positive\": [\"{(i + 1) % 300}\", 0], \"latent_image\": [\"{(i + 1) % 300}\", 0], \"seed\": [\"{(i + 1) % 300}\", 0]}}}}");
        var prompt = "{" + string.Join(',', nodes) + "}";

        var info = ParseSafely(new Dictionary<string, string> { ["prompt"] = prompt }, "ring");

        Assert.That(info?.Samplers, Is.EqualTo(300));
    }

    [Test]
    public void Parse_time_per_sample()
    {
        var a1111 = new Dictionary<string, string> { ["parameters"] = GenerationA1111Tests.A1111Sdxl };
        var comfy = new Dictionary<string, string> { ["prompt"] = GenerationComfyTests.HiresLoraPrompt, ["workflow"] = GenerationComfyTests.DefaultWorkflow };
        var workflow = new Dictionary<string, string> { ["workflow"] = GenerationComfyTests.DefaultWorkflow };

        TestContext.Out.WriteLine($"A1111 parameters: {MicrosecondsPerParse(a1111):F1} µs per parse");
        TestContext.Out.WriteLine($"ComfyUI prompt (hires + LoRAs, 14 nodes): {MicrosecondsPerParse(comfy):F1} µs per parse");
        TestContext.Out.WriteLine($"ComfyUI workflow only (default graph): {MicrosecondsPerParse(workflow):F1} µs per parse");
        Assert.Pass("timings are printed, not asserted");
    }

    private static double MicrosecondsPerParse(Dictionary<string, string> chunks)
    {
        // Long enough for the JIT to promote the hot methods to optimised code.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 400)
        {
            GenerationParser.Parse(chunks, null);
        }

        const int runs = 2000;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
        {
            GenerationParser.Parse(chunks, null);
        }

        return clock.Elapsed.TotalMicroseconds / runs;
    }

    private static GenerationInfo? ParseSafely(Dictionary<string, string> chunks, string what, string? userComment = null)
    {
        try
        {
            var info = GenerationParser.Parse(chunks, userComment);
            Assert.That(info?.Warnings ?? [], Has.None.Contains("could not be read"), $"{what}: a parser threw and was caught; it should have warned on its own");
            return info;
        }
        catch (Exception ex) when (ex is not AssertionException)
        {
            Assert.Fail($"{what}: threw {ex.GetType().Name}: {ex.Message}");
            return null;
        }
    }
}
