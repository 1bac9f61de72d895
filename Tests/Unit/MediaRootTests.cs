using IngestLite.Jobs;
using IngestLite.Tests.Support;
using Microsoft.Extensions.Options;

namespace IngestLite.Tests.Unit;

public sealed class MediaRootTests
{
    private TempDirectory _temp = null!;
    private string _rootPath = null!;
    private string _outside = null!;
    private MediaRoot _root = null!;

    [SetUp]
    public void SetUp()
    {
        _temp = new TempDirectory();
        _rootPath = MediaRoot.RealPath(_temp.Combine("root"))!;
        _outside = _temp.Combine("outside");
        Directory.CreateDirectory(Path.Join(_rootPath, "photos", "sub"));
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Join(_outside, "secret.png"), "x");
        _root = Create(_rootPath);
    }

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static MediaRoot Create(string path) => new(Options.Create(new IngestOptions { MediaRoot = path }));

    private string Resolved(string? input)
    {
        Assert.That(_root.TryResolve(input, out var fullPath, out var error), Is.True, $"'{input}' rejected: {error}");
        return fullPath;
    }

    private string Rejected(string input)
    {
        Assert.That(_root.TryResolve(input, out _, out var error), Is.False, $"'{input}' should be rejected");
        return error;
    }

    [Test]
    public void Creates_the_root_and_exposes_its_real_path()
    {
        var fresh = _temp.Combine("fresh", "media");

        var root = Create(fresh);

        Assert.That(Directory.Exists(fresh), Is.True);
        Assert.That(root.FullPath, Is.EqualTo(MediaRoot.RealPath(fresh)));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("  ")]
    public void Empty_input_is_the_root(string? input)
    {
        Assert.That(Resolved(input), Is.EqualTo(_rootPath));
    }

    [TestCase("photos", "photos")]
    [TestCase("photos/sub", "photos/sub")]
    [TestCase("photos/sub/", "photos/sub")]
    [TestCase("./photos/./sub", "photos/sub")]
    [TestCase("photos/not-yet-there.png", "photos/not-yet-there.png")]
    public void Relative_paths_inside_are_accepted(string input, string expected)
    {
        Assert.That(Resolved(input), Is.EqualTo(Path.Join(_rootPath, expected)));
    }

    [Test]
    public void Absolute_paths_inside_are_accepted()
    {
        Assert.That(Resolved(Path.Join(_rootPath, "photos", "sub")), Is.EqualTo(Path.Join(_rootPath, "photos", "sub")));
        Assert.That(Resolved(_rootPath), Is.EqualTo(_rootPath));
    }

    [TestCase("..")]
    [TestCase("../outside")]
    [TestCase("a/../..")]
    [TestCase("photos/../photos")]
    [TestCase("photos\\..\\..")]
    public void Dot_dot_is_rejected(string input)
    {
        Assert.That(Rejected(input), Does.Contain(".."));
    }

    [Test]
    public void Absolute_dot_dot_is_rejected()
    {
        Assert.That(Rejected(_rootPath + "/photos/../../outside"), Does.Contain(".."));
    }

    [Test]
    public void Absolute_paths_elsewhere_are_rejected()
    {
        Assert.That(Rejected(_outside), Does.Contain("outside the media root"));
        Assert.That(Rejected("/etc"), Does.Contain("outside the media root"));
    }

    [Test]
    public void A_sibling_sharing_the_root_prefix_is_outside()
    {
        var sibling = _rootPath + "-evil";
        Directory.CreateDirectory(sibling);

        Assert.That(Rejected(sibling), Does.Contain("outside the media root"));
        Assert.That(_root.Contains(sibling), Is.False);
    }

    [TestCase("\0")]
    [TestCase("photos/a\0b")]
    public void Nul_is_rejected(string input)
    {
        Assert.That(Rejected(input), Is.EqualTo("is not a valid path"));
    }

    [Test]
    public void Overlong_input_is_rejected()
    {
        Assert.That(Rejected(new string('a', 4097)), Is.EqualTo("is not a valid path"));
    }

    [Test]
    public void A_symlink_out_of_the_root_is_rejected()
    {
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "escape"), _outside);
        File.CreateSymbolicLink(Path.Join(_rootPath, "secret.png"), Path.Join(_outside, "secret.png"));

        Assert.That(Rejected("escape"), Does.Contain("outside the media root"));
        Assert.That(Rejected("escape/secret.png"), Does.Contain("outside the media root"));
        Assert.That(Rejected("secret.png"), Does.Contain("outside the media root"));
        Assert.That(Rejected(Path.Join(_rootPath, "escape")), Does.Contain("outside the media root"));
    }

    [Test]
    public void A_relative_symlink_out_of_the_root_is_rejected()
    {
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "photos", "up"), "../../outside");

        Assert.That(Rejected("photos/up"), Does.Contain("outside the media root"));
    }

    [Test]
    public void A_chain_of_two_symlinks_out_is_rejected()
    {
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "second"), _outside);
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "photos", "first"), Path.Join(_rootPath, "second"));

        Assert.That(Rejected("photos/first"), Does.Contain("outside the media root"));
        Assert.That(Rejected("photos/first/secret.png"), Does.Contain("outside the media root"));
    }

    [Test]
    public void A_chain_that_leaves_and_comes_back_is_accepted()
    {
        Directory.CreateSymbolicLink(Path.Join(_outside, "back"), Path.Join(_rootPath, "photos", "sub"));
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "detour"), Path.Join(_outside, "back"));

        Assert.That(Resolved("detour"), Is.EqualTo(Path.Join(_rootPath, "photos", "sub")));
    }

    [Test]
    public void A_symlink_inside_the_root_is_accepted_and_resolved()
    {
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "alias"), "photos/sub");

        Assert.That(Resolved("alias"), Is.EqualTo(Path.Join(_rootPath, "photos", "sub")));
        Assert.That(Resolved("alias/x.png"), Is.EqualTo(Path.Join(_rootPath, "photos", "sub", "x.png")));
    }

    [Test]
    public void A_symlink_loop_is_rejected()
    {
        File.CreateSymbolicLink(Path.Join(_rootPath, "loop-a"), Path.Join(_rootPath, "loop-b"));
        File.CreateSymbolicLink(Path.Join(_rootPath, "loop-b"), Path.Join(_rootPath, "loop-a"));
        File.CreateSymbolicLink(Path.Join(_rootPath, "self"), "self");

        Assert.That(Rejected("loop-a"), Does.Contain("symlink loop"));
        Assert.That(Rejected("loop-a/file.png"), Does.Contain("symlink loop"));
        Assert.That(Rejected("self"), Does.Contain("symlink loop"));
        Assert.That(MediaRoot.RealPath(Path.Join(_rootPath, "loop-b")), Is.Null);
    }

    [Test]
    public void RealPath_resolves_intermediate_links()
    {
        var real = Path.Join(_rootPath, "photos", "sub");
        File.WriteAllText(Path.Join(real, "file.png"), "x");
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "hop2"), real);
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "hop1"), "hop2");

        Assert.That(MediaRoot.RealPath(Path.Join(_rootPath, "hop1", "file.png")), Is.EqualTo(Path.Join(real, "file.png")));
    }

    [Test]
    public void RealPath_resolves_relative_targets_with_dot_dot_against_the_link_folder()
    {
        Directory.CreateSymbolicLink(Path.Join(_rootPath, "photos", "sub", "sibling"), "../../other");
        Directory.CreateDirectory(Path.Join(_rootPath, "other"));

        Assert.That(MediaRoot.RealPath(Path.Join(_rootPath, "photos", "sub", "sibling", "x")), Is.EqualTo(Path.Join(_rootPath, "other", "x")));
    }

    [Test]
    public void RealPath_keeps_a_missing_tail_as_written()
    {
        var path = Path.Join(_rootPath, "missing", "deeper", "file.png");

        Assert.That(MediaRoot.RealPath(path), Is.EqualTo(path));
    }

    [Test]
    public void A_root_configured_through_a_symlink_resolves_to_its_target()
    {
        var link = _temp.Combine("root-link");
        Directory.CreateSymbolicLink(link, _rootPath);

        var root = Create(link);

        Assert.That(root.FullPath, Is.EqualTo(_rootPath));
        Assert.That(root.TryResolve(Path.Join(link, "photos"), out var fullPath, out var error), Is.True, error);
        Assert.That(fullPath, Is.EqualTo(Path.Join(_rootPath, "photos")));
    }

    [Test]
    public void ToRelative_and_ToFull_round_trip()
    {
        var full = Path.Join(_rootPath, "photos", "sub", "a.png");

        Assert.That(_root.ToRelative(full), Is.EqualTo("photos/sub/a.png"));
        Assert.That(_root.ToFull("photos/sub/a.png"), Is.EqualTo(full));
        Assert.That(_root.ToRelative(_rootPath), Is.EqualTo(""));
        Assert.That(_root.ToFull(""), Is.EqualTo(_rootPath));
    }
}
