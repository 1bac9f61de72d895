using System.ComponentModel.DataAnnotations;

namespace IngestLite.Progress;

/// <summary>Settings of section <c>Stream</c>: limits and timings of the event streams.</summary>
public sealed class StreamOptions
{
    public const string SectionName = "Stream";

    /// <summary>Concurrent streams the server accepts; past it, 503 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int MaxStreams { get; set; } = 1000;

    /// <summary>How often an idle stream writes a heartbeat event, so dead peers are noticed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:15:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A stream is closed after this long; the browser reconnects with Last-Event-ID and loses nothing.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Least time between two events of one stream. Bursts coalesce to the newest state, so a session
    /// that changes thousands of times a second costs each client at most 1/interval events a second
    /// (10 by default: as fresh as polling every 100 ms). A change after a quiet spell goes out at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan MinEventInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Within <see cref="MinEventInterval"/>, a stream waits for the changes to pause this long before it
    /// sends the newest state, so a short burst reaches the client a few ms after it ends.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:01")]
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Compress streams (gzip, one shared frame per event) for clients that accept it.</summary>
    public bool Compression { get; set; } = true;

    /// <summary>The <c>retry:</c> hint sent to browsers.</summary>
    [Range(100, 60_000)]
    public int RetryMilliseconds { get; set; } = 1000;
}

/// <summary>Counts open streams and enforces <see cref="StreamOptions.MaxStreams"/>.</summary>
public sealed class StreamGate(Microsoft.Extensions.Options.IOptions<StreamOptions> options)
{
    private int _open;

    public int OpenStreams => Volatile.Read(ref _open);

    /// <summary>A slot, or null when the server is at its cap. Dispose releases it (once).</summary>
    public IDisposable? TryAcquire()
    {
        if (Interlocked.Increment(ref _open) > options.Value.MaxStreams)
        {
            Interlocked.Decrement(ref _open);
            return null;
        }

        return new Slot(this);
    }

    private sealed class Slot(StreamGate gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Decrement(ref gate._open);
            }
        }
    }
}
