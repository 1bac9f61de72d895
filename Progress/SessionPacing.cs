using System.Collections.Concurrent;

namespace IngestLite.Progress;

/// <summary>
/// The stream layer's pacing state of each session: one <see cref="SessionSampler"/> (and its
/// <see cref="SharedPace"/>) per session that streams follow, shared by its own streams and every
/// multiplexed stream, so they wake together and send the same frames. The registry holds state only.
/// Samplers of sessions the registry no longer holds are swept whenever the count doubles, so this holds
/// at most about twice the sessions in memory; a stream that still uses a swept one is unaffected.
/// </summary>
public sealed class SessionPacing(IProgressRegistry registry)
{
    private const int FirstSweep = 64;

    private readonly ConcurrentDictionary<string, SessionSampler> _samplers = new(StringComparer.Ordinal);
    private int _sweepAt = FirstSweep;

    /// <summary>The pace of every multiplexed stream.</summary>
    public SharedPace Multiplexed { get; } = new();

    /// <summary>Samplers held, for tests.</summary>
    public int Count => _samplers.Count;

    public SessionSampler For(string sessionId)
    {
        if (_samplers.TryGetValue(sessionId, out var sampler))
        {
            return sampler;
        }

        sampler = _samplers.GetOrAdd(sessionId, static _ => new SessionSampler());
        if (_samplers.Count >= Volatile.Read(ref _sweepAt))
        {
            Sweep();
        }

        return sampler;
    }

    private void Sweep()
    {
        foreach (var sessionId in _samplers.Keys)
        {
            if (registry.Get(sessionId) is null)
            {
                _samplers.TryRemove(sessionId, out _);
            }
        }

        Volatile.Write(ref _sweepAt, Math.Max(FirstSweep, _samplers.Count * 2));
    }
}
