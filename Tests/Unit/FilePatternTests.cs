using System.Diagnostics;
using IngestLite.Jobs;

namespace IngestLite.Tests.Unit;

public sealed class FilePatternTests
{
    private static FilePattern Parse(string? text)
    {
        Assert.That(FilePattern.TryParse(text, out var pattern, out var error), Is.True, error);
        return pattern;
    }

    private static string Rejected(string text)
    {
        Assert.That(FilePattern.TryParse(text, out _, out var error), Is.False, $"'{text}' should be rejected");
        Assert.That(error, Is.Not.Empty);
        return error;
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    public void Missing_pattern_means_the_default(string? text)
    {
        Assert.That(Parse(text).Text, Is.EqualTo(FilePattern.Default));
    }

    [TestCase("a.png")]
    [TestCase("clip.mp4")]
    [TestCase("photo.jpg")]
    [TestCase("photo.jpeg")]
    [TestCase(".png")]
    [TestCase("two.dots.png")]
    public void Default_pattern_matches_media(string name)
    {
        Assert.That(Parse(null).IsMatch(name), Is.True);
    }

    [TestCase("notes.txt")]
    [TestCase("a.png.txt")]
    [TestCase("a.gif")]
    [TestCase("apng")]
    [TestCase("a.pn")]
    [TestCase("")]
    public void Default_pattern_rejects_other_files(string name)
    {
        Assert.That(Parse(null).IsMatch(name), Is.False);
    }

    [TestCase("A.PNG")]
    [TestCase("upper.JPG")]
    [TestCase("Clip.Mp4")]
    [TestCase("x.JpEg")]
    public void Matching_is_case_insensitive(string name)
    {
        Assert.That(Parse(null).IsMatch(name), Is.True);
    }

    [Test]
    public void Pattern_text_is_case_insensitive_too()
    {
        Assert.That(Parse("IMG_*.PNG").IsMatch("img_0001.png"), Is.True);
    }

    [Test]
    public void Alternatives_are_separated_by_bars_and_trimmed()
    {
        var pattern = Parse(" *.gif |*.webp ");

        Assert.That(pattern.IsMatch("x.gif"), Is.True);
        Assert.That(pattern.IsMatch("y.WEBP"), Is.True);
        Assert.That(pattern.IsMatch("z.png"), Is.False);
    }

    [Test]
    public void Question_mark_matches_exactly_one_character()
    {
        var pattern = Parse("img?.png");

        Assert.That(pattern.IsMatch("img1.png"), Is.True);
        Assert.That(pattern.IsMatch("imgX.png"), Is.True);
        Assert.That(pattern.IsMatch("img.png"), Is.False);
        Assert.That(pattern.IsMatch("img12.png"), Is.False);
    }

    [Test]
    public void Double_star_means_the_same_as_star()
    {
        var pattern = Parse("**.png|a***b");

        Assert.That(pattern.IsMatch("x.png"), Is.True);
        Assert.That(pattern.IsMatch(".png"), Is.True);
        Assert.That(pattern.IsMatch("ab"), Is.True);
        Assert.That(pattern.IsMatch("a-middle-b"), Is.True);
        Assert.That(pattern.IsMatch("a-middle-c"), Is.False);
    }

    [Test]
    public void Star_in_the_middle_and_at_the_start()
    {
        var pattern = Parse("*fox*.png");

        Assert.That(pattern.IsMatch("red-fox-01.png"), Is.True);
        Assert.That(pattern.IsMatch("fox.png"), Is.True);
        Assert.That(pattern.IsMatch("wolf.png"), Is.False);
        Assert.That(pattern.IsMatch("fox.png.bak"), Is.False);
    }

    [TestCase("a+(b).png", "a+(b).png", true)]
    [TestCase("a+(b).png", "aa(b).png", false)]
    [TestCase("a+(b).png", "ab.png", false)]
    [TestCase("[ab].png", "[ab].png", true)]
    [TestCase("[ab].png", "a.png", false)]
    [TestCase("a.png", "aXpng", false)]
    [TestCase("^x$.png", "^x$.png", true)]
    [TestCase("{1,2}.jpg", "{1,2}.jpg", true)]
    [TestCase("{1,2}.jpg", "1.jpg", false)]
    public void Regex_metacharacters_are_literal(string glob, string name, bool expected)
    {
        Assert.That(Parse(glob).IsMatch(name), Is.EqualTo(expected));
    }

    [TestCase("*.png", "*cover.png")]
    [TestCase("a*", "a*b")]
    [TestCase("*", "*")]
    [TestCase("*x", "*yx")]
    public void A_star_in_the_file_name_is_just_a_character(string glob, string name)
    {
        // Linux allows '*' in file names; the glob's '*' must still act as a wildcard over it.
        Assert.That(Parse(glob).IsMatch(name), Is.True);
    }

    [TestCase("photos/*.png")]
    [TestCase("*.png|a\\b.png")]
    [TestCase("/*.png")]
    [TestCase("a\0.png")]
    public void Path_separators_and_nul_are_rejected(string text)
    {
        Assert.That(Rejected(text), Does.Contain("file names"));
    }

    [TestCase("*.png||*.jpg")]
    [TestCase("*.png|")]
    [TestCase("| ")]
    public void Empty_alternatives_are_rejected(string text)
    {
        Rejected(text);
    }

    [Test]
    public void Longer_than_512_characters_is_rejected()
    {
        Assert.That(FilePattern.TryParse(new string('a', FilePattern.MaxLength), out _, out _), Is.True);
        Assert.That(Rejected(new string('a', FilePattern.MaxLength + 1)), Does.Contain("512"));
    }

    [Test]
    public void More_than_32_alternatives_is_rejected()
    {
        Assert.That(FilePattern.TryParse(string.Join('|', Enumerable.Repeat("*.png", 32)), out _, out _), Is.True);
        Rejected(string.Join('|', Enumerable.Repeat("*.png", 33)));
    }

    [Test]
    public void Pathological_pattern_finishes_fast()
    {
        var pattern = Parse("*a*a*a*a*a*a*a*b");
        var name = new string('a', 50_000);

        var stopwatch = Stopwatch.StartNew();
        var run = Task.Run(() => pattern.IsMatch(name));
        var finished = run.Wait(TimeSpan.FromSeconds(10));

        Assert.That(finished, Is.True, "matching did not finish within 10 s");
        Assert.That(run.Result, Is.False);
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void Pathological_pattern_still_matches_when_it_should()
    {
        var pattern = Parse("*a*a*a*a*a*a*a*b");

        Assert.That(pattern.IsMatch(new string('a', 5_000) + "b"), Is.True);
        Assert.That(pattern.IsMatch("aaaaaab"), Is.False);
    }
}
