using IngestLite.Progress;

namespace IngestLite.Tests.Unit;

/// <summary>The durable marks that keep event ids and seqs above everything sent before a crash.</summary>
public sealed class CounterLeaseTests
{
    [Test]
    public void Every_value_is_below_the_recorded_mark_before_it_is_handed_out()
    {
        var marks = new MemoryMarks();
        var lease = new CounterLease(marks, "c", block: 16, start: 0);
        for (long value = 1; value <= 1000; value++)
        {
            lease.Cover(value);
            Assert.That(marks.ReadMark("c"), Is.GreaterThanOrEqualTo(value), $"value {value} was not covered when handed out");
        }

        Assert.That(marks.Writes, Is.LessThan(1000 / 8 * 2), "the mark is raised a block at a time, not per value");
    }

    [Test]
    public void A_registry_built_on_marks_continues_above_the_previous_process()
    {
        var marks = new MemoryMarks();
        var first = new InProcessProgressRegistry(marks);
        for (var seq = 1; seq <= 100; seq++)
        {
            first.Publish(Snapshot(seq));
        }

        // The previous process dies here, whatever it had sent.
        var sent = first.Version;
        var second = new InProcessProgressRegistry(marks);
        second.Publish(Snapshot(1));

        Assert.That(second.Get("s")!.Version, Is.GreaterThan(sent));
    }

    private static ProgressSnapshot Snapshot(long seq) =>
        new("s", SessionStatus.Processing, 0, 1, null, null, 0, DateTimeOffset.UnixEpoch, null, SessionStats.Empty, [], [], seq, DateTimeOffset.UnixEpoch, 0, null);

    private sealed class MemoryMarks : ICounterMarks
    {
        private readonly Dictionary<string, long> _marks = [];

        public int Writes { get; private set; }

        public long ReadMark(string name)
        {
            lock (_marks)
            {
                return _marks.GetValueOrDefault(name);
            }
        }

        public void WriteMark(string name, long value)
        {
            lock (_marks)
            {
                Writes++;
                _marks[name] = Math.Max(_marks.GetValueOrDefault(name), value);
            }
        }
    }
}
