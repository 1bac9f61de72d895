using System.Text;
using IngestLite.Catalog;
using IngestLite.Progress;

namespace IngestLite.Tests.Unit;

/// <summary>The catalog's copy of a snapshot: its own shape, and rows written before it still read.</summary>
public sealed class StoredSnapshotTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 10, 0, 0, 123, TimeSpan.Zero);

    private static ProgressSnapshot Sample()
    {
        var error = new FileError("a/b.png", "hash", "unreadable", At);
        return new ProgressSnapshot("s1", SessionStatus.Cancelled, 40, 10, "a/c.png", "phash", 4, At, At.AddSeconds(5),
            new SessionStats(10, 12, 2, 4, 3, 17, 1, 3, 1, 2), [error.ToString()], [error], 42, At.AddSeconds(5), 0.8, null,
            CurrentFileBytes: 5, CurrentFileSize: 9, Message: "stopped", ParentSessionId: "s0", Stalled: true);
    }

    private static string Wire(ProgressSnapshot snapshot) => Encoding.UTF8.GetString(ProgressWire.Serialize(snapshot));

    [Test]
    public void A_snapshot_reads_back_as_it_was_stored()
    {
        var snapshot = Sample();
        Assert.That(Wire(StoredSnapshot.FromText(StoredSnapshot.ToText(snapshot))), Is.EqualTo(Wire(snapshot)));
    }

    [Test]
    public void A_row_written_in_the_wire_format_before_the_stored_record_reads_the_same()
    {
        // The wire of those days: current_file held the path (there was no current_path), and no commit fields.
        var snapshot = Sample();
        var old = System.Text.Json.Nodes.JsonNode.Parse(Wire(snapshot))!.AsObject();
        old["current_file"] = old["current_path"]!.GetValue<string>();
        foreach (var added in new[] { "current_path", "error", "commit_mode", "commit_progress", "commit_error" })
        {
            Assert.That(old.Remove(added), Is.True, added);
        }

        Assert.That(Wire(StoredSnapshot.FromText(old.ToJsonString())), Is.EqualTo(Wire(snapshot)));
    }

    [Test]
    public void What_the_wire_derives_is_not_stored()
    {
        var stored = System.Text.Json.Nodes.JsonNode.Parse(StoredSnapshot.ToText(Sample()))!.AsObject();
        Assert.That(stored.ContainsKey("errors"), Is.False, "the errors text list is derived from error_details");
        Assert.That(stored.ContainsKey("error_details"), Is.True);
    }
}
