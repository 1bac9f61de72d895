namespace IngestLite.Progress;

/// <summary>
/// Durable marks, one per counter name, each at or above every value its counter has handed out
/// (registry versions, which are event ids; a session's seq). The catalog keeps them.
/// </summary>
public interface ICounterMarks
{
    /// <summary>The name of a session's seq mark.</summary>
    static string SessionSeq(string sessionId) => "seq:" + sessionId;

    /// <summary>The mark recorded under <paramref name="name"/>, or 0 when there is none.</summary>
    long ReadMark(string name);

    /// <summary>Raises the mark to <paramref name="value"/> (never lowers it); recorded when it returns.</summary>
    void WriteMark(string name, long value);
}

/// <summary>
/// Keeps a counter below a durable mark before any of its values can be seen, so that after a crash the
/// counter can start at the mark: above everything ever sent. The mark is raised a block ahead, in the
/// background once half the block is used, and synchronously only if a block runs out first (or for the
/// first value). Costs one comparison per value; a block of N costs one small catalog write per N/2 values.
/// If the mark cannot be written (the catalog is failing, which the run reports itself), the counter goes
/// on and only the guarantee across a crash is lost.
/// </summary>
public sealed class CounterLease(ICounterMarks marks, string name, long block, long start)
{
    private readonly Lock _gate = new();
    private long _limit = start;
    private int _extending;

    /// <summary>Call with each new value before it is published.</summary>
    public void Cover(long value)
    {
        var limit = Volatile.Read(ref _limit);
        if (value <= limit - block / 2)
        {
            return;
        }

        if (value > limit)
        {
            Extend(value, margin: 0);
        }
        else if (Interlocked.Exchange(ref _extending, 1) == 0)
        {
            _ = Task.Run(() =>
            {
                Extend(value, margin: block / 2);
                Volatile.Write(ref _extending, 0);
            });
        }
    }

    /// <summary>Raises the mark to a block above <paramref name="value"/>, unless it is already more than <paramref name="margin"/> above it.</summary>
    private void Extend(long value, long margin)
    {
        lock (_gate)
        {
            if (value <= _limit - margin)
            {
                return;
            }

            var next = value + block;
            try
            {
                marks.WriteMark(name, next);
            }
            catch (Exception)
            {
                // Best effort, see the class comment: never fail a publish over the mark.
            }

            Volatile.Write(ref _limit, next);
        }
    }
}
