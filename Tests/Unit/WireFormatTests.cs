using System.Text.RegularExpressions;
using IngestLite.Progress;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Unit;

/// <summary>The wire format has two homes, one per language (ProgressWire.cs, wire.js): they must say the same.</summary>
public sealed partial class WireFormatTests
{
    private static readonly string WireJs = File.ReadAllText(Path.Combine(Repository.Root, "wwwroot", "js", "wire.js"));

    [Test]
    public void The_browser_knows_the_same_event_names_as_the_server()
    {
        var events = EventsObject().Match(WireJs);
        Assert.That(events.Success, Is.True, "wire.js declares its Events");
        var names = QuotedString().Matches(events.Groups["body"].Value).Select(m => m.Groups["text"].Value);
        Assert.That(names, Is.EquivalentTo(new[] { ProgressWire.ProgressEvent, ProgressWire.DoneEvent, ProgressWire.HeartbeatEvent, ProgressWire.RemovedEvent }));
    }

    [Test]
    public void The_browser_knows_the_same_final_states_as_the_server()
    {
        var finals = FinalStates().Match(WireJs);
        Assert.That(finals.Success, Is.True, "wire.js declares FINAL_STATES");
        var names = QuotedString().Matches(finals.Groups["body"].Value).Select(m => m.Groups["text"].Value);
        var server = Enum.GetValues<SessionStatus>().Where(s => s.IsTerminal()).Select(s => s.ToWire());
        Assert.That(names, Is.EquivalentTo(server));
    }

    [Test]
    public void The_dashboard_script_knows_the_same_final_states_as_the_server()
    {
        // A classic script bundled by Hangfire: it cannot import wire.js, so its copy is checked here.
        var script = File.ReadAllText(Path.Combine(Repository.Root, "Dashboard", "ingest-dashboard.js"));
        var finals = DashboardFinalStates().Match(script);
        Assert.That(finals.Success, Is.True, "ingest-dashboard.js declares FINAL");
        var names = QuotedString().Matches(finals.Groups["body"].Value).Select(m => m.Groups["text"].Value);
        Assert.That(names, Is.EquivalentTo(Enum.GetValues<SessionStatus>().Where(s => s.IsTerminal()).Select(s => s.ToWire())));
    }

    [GeneratedRegex(@"var FINAL = \[(?<body>[^\]]*)\]")]
    private static partial Regex DashboardFinalStates();

    [GeneratedRegex(@"export const Events = Object\.freeze\(\{(?<body>[^}]*)\}\)")]
    private static partial Regex EventsObject();

    [GeneratedRegex(@"export const FINAL_STATES = Object\.freeze\(\[(?<body>[^\]]*)\]\)")]
    private static partial Regex FinalStates();

    [GeneratedRegex(@"'(?<text>[^']*)'")]
    private static partial Regex QuotedString();
}
