using IngestLite.Jobs;

namespace IngestLite.Tests.Unit;

public sealed class SmokeTests
{
    [Test]
    public void Default_pattern_matches_png() => Assert.That(FilePattern.TryParse(null, out var p, out _) && p.IsMatch("a.PNG"), Is.True);
}
