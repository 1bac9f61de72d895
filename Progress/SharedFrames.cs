using System.IO.Compression;
using System.IO.Hashing;

namespace IngestLite.Progress;

/// <summary>
/// Compressed event frames shared by every stream. A frame is one event's raw DEFLATE blocks,
/// compressed against the event sent just before it and ended with a sync flush. DEFLATE keeps no
/// state between blocks except the window, so a frame decodes the same way in every client whose
/// last decoded bytes are that previous event: streams that sent the same event get the same next
/// frame, computed once. A stream therefore costs a lookup and a socket write per event, and holds
/// no compressor (a stateful one holds 256 KB to 1 MB of native memory per stream).
/// </summary>
public sealed class SharedFrames
{
    /// <summary>Texts kept per generation; two generations are kept (a few hundred KB at most).</summary>
    private const int GenerationSize = 512;

    /// <summary>
    /// Frames kept per text, one per distinct previous event. Streams in step need one; streams that joined
    /// at different moments need a few more for a while. The least recently used frame goes first, so the
    /// frame most streams take stays however many rare ones come and go.
    /// </summary>
    private const int FramesPerText = 8;

    private readonly Lock _gate = new();
    private Dictionary<ulong, EventText> _current = [];
    private Dictionary<ulong, EventText> _previous = [];
    private long _compressed;
    private long _lastId;

    /// <summary>How many frames were compressed since start (one per distinct previous/next pair).</summary>
    public long FramesCompressed => Interlocked.Read(ref _compressed);

    /// <summary>The shared text equal to <paramref name="bytes"/>; copies them the first time only.</summary>
    public EventText Intern(ReadOnlySpan<byte> bytes)
    {
        var hash = XxHash3.HashToUInt64(bytes);
        lock (_gate)
        {
            if (_current.TryGetValue(hash, out var text) || _previous.TryGetValue(hash, out text))
            {
                // Equal hashes with other bytes: serve this stream an unshared text (correct, just not cached).
                if (!text.Bytes.AsSpan().SequenceEqual(bytes))
                {
                    return new EventText(this, bytes.ToArray());
                }
            }
            else
            {
                text = new EventText(this, bytes.ToArray());
            }


            if (!_current.ContainsKey(hash))
            {
                if (_current.Count >= GenerationSize)
                {
                    (_previous, _current) = (_current, []);
                }

                _current[hash] = text;
            }

            return text;
        }
    }

    private byte[] Compress(EventText? previous, EventText next)
    {
        Interlocked.Increment(ref _compressed);
        using var output = new MemoryStream();
        var skip = 0;
        using (var deflate = new DeflateStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            if (previous is not null)
            {
                deflate.Write(previous.Bytes);
                deflate.Flush();
                skip = (int)output.Length;
            }

            deflate.Write(next.Bytes);
            deflate.Flush();
            return output.GetBuffer().AsSpan(skip, (int)output.Length - skip).ToArray();
        }
    }

    /// <summary>
    /// One event's exact bytes, and its frames after the previous events streams sent. A frame names
    /// its previous event by id, not by reference, so texts never keep their predecessors alive.
    /// </summary>
    public sealed class EventText
    {
        private readonly SharedFrames _owner;
        private readonly (long PreviousId, byte[] Frame, long LastUsed)[] _frames = new (long, byte[], long)[FramesPerText];
        private long _uses;

        internal EventText(SharedFrames owner, byte[] bytes)
        {
            _owner = owner;
            Bytes = bytes;
            Id = Interlocked.Increment(ref owner._lastId);
        }

        public byte[] Bytes { get; }

        /// <summary>Unique per text (ids start at 1; 0 stands for "no previous event").</summary>
        public long Id { get; }

        /// <summary>
        /// This event's frame for a stream whose last event was <paramref name="previous"/> (null: the
        /// stream's first event, decodable on its own). Compressed once per pair; later callers share it.
        /// </summary>
        public byte[] FrameAfter(EventText? previous)
        {
            var previousId = previous?.Id ?? 0;
            lock (_frames)
            {
                var use = ++_uses;
                var oldest = 0;
                for (var i = 0; i < _frames.Length; i++)
                {
                    ref var slot = ref _frames[i];
                    if (slot.Frame is not null && slot.PreviousId == previousId)
                    {
                        slot.LastUsed = use;
                        return slot.Frame;
                    }

                    if (slot.LastUsed < _frames[oldest].LastUsed)
                    {
                        oldest = i;
                    }
                }

                var made = _owner.Compress(previous, this);
                _frames[oldest] = (previousId, made, use);
                return made;
            }
        }
    }
}
