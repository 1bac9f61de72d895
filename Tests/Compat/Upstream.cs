using System.Text;
using System.Text.RegularExpressions;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Compat;

/// <summary>
/// Upstream's own clients (media_scoring's Ingest V2 page, workflow script and the proposal's stream client),
/// read at test time from <c>../shared/upstream/</c> beside the repository, or from <c>$INGESTLITE_UPSTREAM</c>.
/// They are never copied into the project. A missing folder or file fails the test that needs it.
/// </summary>
public static partial class Upstream
{
    public const string EnvironmentVariable = "INGESTLITE_UPSTREAM";

    /// <summary>The folder holding upstream's files (it may not exist: <see cref="File"/> says so).</summary>
    public static string Folder =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "upstream"));

    /// <summary>The full path of one of upstream's files; fails the test, naming where it looked, if it is not there.</summary>
    public static string File(string name)
    {
        var path = Path.Combine(Folder, name);
        if (!System.IO.File.Exists(path))
        {
            var from = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } ? $" (the folder {EnvironmentVariable} names)" : "";
            Assert.Fail(
                $"Upstream's client file '{name}' is not at {path}{from}. The compat tests load media_scoring's clients from ../shared/upstream/ " +
                $"beside the repository root ({Repository.Root}), or from the folder {EnvironmentVariable} names; put the files there.");
        }

        return path;
    }

    public static string Text(string name) => System.IO.File.ReadAllText(File(name), Encoding.UTF8);

    /// <summary>
    /// The proposal's <c>startProgressStreaming()</c>, verbatim: the function's text from <c>function</c> to its
    /// closing brace, taken from the fenced javascript block of PROGRESS_STREAMING_REDESIGN_PROPOSAL.md that defines it.
    /// </summary>
    public static string ProposalStreamingClient()
    {
        const string name = "PROGRESS_STREAMING_REDESIGN_PROPOSAL.md";
        const string signature = "function startProgressStreaming()";
        var block = FencedJavaScript().Matches(Text(name)).Select(m => m.Groups["code"].Value).FirstOrDefault(code => code.Contains(signature, StringComparison.Ordinal));
        if (block is null)
        {
            Assert.Fail($"{name} has no ```javascript block defining {signature}");
        }

        var start = block!.IndexOf(signature, StringComparison.Ordinal);
        var length = FunctionLength(block, start);
        if (length < 0)
        {
            Assert.Fail($"{signature} in {name}: its braces do not balance");
        }

        return block.Substring(start, length);
    }

    /// <summary>
    /// Upstream's page (a Jinja template) as its server would render it for the default theme with NSFW detection
    /// unavailable: each of its three <c>{{ ... }}</c> expressions is replaced whole. Fails if the template's
    /// expressions are not the three this expects, so a changed template is noticed rather than half-rendered.
    /// </summary>
    public static string OldPage()
    {
        const string name = "ingest_v2.html";
        var template = Text(name);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["settings.style"] = "style_default.css",
            ["'available' if nsfw_detection_available else 'unavailable'"] = "unavailable",
            ["'Available' if nsfw_detection_available else 'Unavailable'"] = "Unavailable",
        };
        var unknown = new List<string>();
        var page = JinjaExpression().Replace(template, m =>
        {
            var expression = m.Groups["expr"].Value.Trim();
            if (values.TryGetValue(expression, out var value))
            {
                return value;
            }

            unknown.Add(expression);
            return m.Value;
        });
        Assert.That(unknown, Is.Empty, $"{name} has Jinja expressions the compat tests do not fill in");
        Assert.That(JinjaExpression().Matches(template), Has.Count.EqualTo(values.Count), $"{name}: expected exactly the expressions {string.Join(", ", values.Keys)}");
        Assert.That(page, Does.Not.Contain("{%"), $"{name} has Jinja statements the compat tests do not render");
        return page;
    }

    /// <summary>Characters from <paramref name="start"/> through the brace that closes the first '{' after it; strings, template literals and comments skipped.</summary>
    private static int FunctionLength(string code, int start)
    {
        var depth = 0;
        for (var i = code.IndexOf('{', start); i >= 0 && i < code.Length; i++)
        {
            var c = code[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipQuoted(code, i);
            }
            else if (c == '/' && i + 1 < code.Length && code[i + 1] == '/')
            {
                i = code.IndexOf('\n', i) is var eol and >= 0 ? eol : code.Length;
            }
            else if (c == '/' && i + 1 < code.Length && code[i + 1] == '*')
            {
                i = code.IndexOf("*/", i + 2, StringComparison.Ordinal) + 1;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && --depth == 0)
            {
                return i + 1 - start;
            }
        }

        return -1;
    }

    /// <summary>The index of the quote closing the one at <paramref name="open"/> (escapes honoured; a template literal's <c>${...}</c> holds no backtick here).</summary>
    private static int SkipQuoted(string code, int open)
    {
        for (var i = open + 1; i < code.Length; i++)
        {
            if (code[i] == '\\')
            {
                i++;
            }
            else if (code[i] == code[open])
            {
                return i;
            }
        }

        return code.Length;
    }

    [GeneratedRegex(@"^```javascript[ \t]*\r?\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedJavaScript();

    [GeneratedRegex(@"\{\{(?<expr>.*?)\}\}", RegexOptions.Singleline)]
    private static partial Regex JinjaExpression();
}
