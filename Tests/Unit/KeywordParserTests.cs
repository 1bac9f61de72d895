using IngestLite.Jobs.Stages;

namespace IngestLite.Tests.Unit;

public sealed class KeywordParserTests
{
    [Test]
    public void Splits_on_commas_and_trims()
    {
        var result = KeywordParser.Parse("red fox ,  forest,snow");

        Assert.That(result.Keywords, Is.EqualTo(new[] { "red fox", "forest", "snow" }));
        Assert.That(result.Loras, Is.Empty);
    }

    [Test]
    public void Splits_on_newlines_too()
    {
        var result = KeywordParser.Parse("red fox\nforest\r\nsnow");

        Assert.That(result.Keywords, Is.EqualTo(new[] { "red fox", "forest", "snow" }));
    }

    [TestCase("(best quality:1.2)", "best quality")]
    [TestCase("((sharp focus:1.35))", "sharp focus")]
    [TestCase("[blurry:0.5]", "blurry")]
    [TestCase("(ugly: -0.4 )", "ugly")]
    [TestCase("{detailed}", "detailed")]
    [TestCase("(masterpiece)", "masterpiece")]
    public void Strips_weights_and_brackets(string prompt, string expected)
    {
        Assert.That(KeywordParser.Parse(prompt).Keywords, Is.EqualTo(new[] { expected }));
    }

    [Test]
    public void Records_lora_tags_and_removes_them_from_keywords()
    {
        var result = KeywordParser.Parse("a red fox, <lora:foxStyle:0.8>, forest");

        Assert.That(result.Loras, Is.EqualTo(new[] { "foxStyle" }));
        Assert.That(result.Keywords, Is.EqualTo(new[] { "a red fox", "forest" }));
    }

    [Test]
    public void A_lora_tag_inside_a_keyword_splits_it()
    {
        var result = KeywordParser.Parse("fox <lora:foxStyle:0.8> forest");

        Assert.That(result.Loras, Is.EqualTo(new[] { "foxStyle" }));
        Assert.That(result.Keywords, Is.EqualTo(new[] { "fox", "forest" }));
    }

    [Test]
    public void Lora_without_weight_and_in_any_case_is_recorded_once()
    {
        var result = KeywordParser.Parse("<LORA:detail>, <lora: Detail :1>, <lora:other:0.5>");

        Assert.That(result.Loras, Is.EqualTo(new[] { "detail", "other" }));
        Assert.That(result.Keywords, Is.Empty);
    }

    [Test]
    public void Lower_cases_and_deduplicates_in_first_seen_order()
    {
        var result = KeywordParser.Parse("Ocean, a blue whale, OCEAN, ocean, (Ocean:1.1)");

        Assert.That(result.Keywords, Is.EqualTo(new[] { "ocean", "a blue whale" }));
    }

    [Test]
    public void Collapses_inner_whitespace()
    {
        Assert.That(KeywordParser.Parse("red \t  fox").Keywords, Is.EqualTo(new[] { "red fox" }));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   \n ")]
    [TestCase(", ,,")]
    [TestCase("()")]
    public void Empty_input_gives_no_keywords(string? prompt)
    {
        var result = KeywordParser.Parse(prompt);

        Assert.That(result.Keywords, Is.Empty);
        Assert.That(result.Loras, Is.Empty);
    }

    [Test]
    public void The_standard_corpus_prompt()
    {
        var result = KeywordParser.Parse("masterpiece, (best quality:1.2), a red fox, <lora:foxStyle:0.8>, forest");

        Assert.That(result.Keywords, Is.EqualTo(new[] { "masterpiece", "best quality", "a red fox", "forest" }));
        Assert.That(result.Loras, Is.EqualTo(new[] { "foxStyle" }));
    }

    [Test]
    public void Drops_overlong_keywords_and_caps_the_count()
    {
        var words = Enumerable.Range(0, 250).Select(i => $"word{i}").Prepend(new string('x', 101));

        var result = KeywordParser.Parse(string.Join(", ", words));

        Assert.That(result.Keywords, Has.Count.EqualTo(200));
        Assert.That(result.Keywords[0], Is.EqualTo("word0"));
        Assert.That(result.Keywords, Has.All.Length.LessThanOrEqualTo(100));
    }
}
