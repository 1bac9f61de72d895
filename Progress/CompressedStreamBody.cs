using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace IngestLite.Progress;

/// <summary>
/// Sends one event stream gzip-compressed, every event leaving at once as a <see cref="SharedFrames"/>
/// frame: successive snapshots are near-identical JSON, so an event costs tens of bytes instead of
/// hundreds, and a frame is compressed once for all the streams that sent the same event before it.
/// The stream itself keeps only the gzip trailer's running CRC-32 and length. ASP.NET's response
/// compression skips SSE on purpose (it buffers, and the result sends <c>Content-Encoding: identity</c>).
/// </summary>
public sealed class CompressedStreamBody : IHttpResponseBodyFeature
{
    private const string Encoding = "gzip";

    /// <summary>RFC 1952 member header: deflate, no flags, no time, unknown OS.</summary>
    private static readonly byte[] Header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

    private readonly IHttpResponseBodyFeature _inner;
    private readonly FrameStream _stream;
    private PipeWriter? _writer;

    private CompressedStreamBody(IHttpResponseBodyFeature inner, SharedFrames frames)
    {
        _inner = inner;
        _stream = new FrameStream(frames, inner.Stream);
    }

    public Stream Stream => _stream;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));

    /// <summary>Installs compression on this response when the client accepts gzip; null otherwise.</summary>
    public static CompressedStreamBody? TryInstall(HttpContext context, SharedFrames frames)
    {
        var acceptsGzip = context.Request.GetTypedHeaders().AcceptEncoding.Any(e =>
            e.Quality is not 0 && (e.Value.Equals(Encoding, StringComparison.OrdinalIgnoreCase) || e.Value.Equals("*", StringComparison.Ordinal)));
        if (!acceptsGzip || context.Features.Get<IHttpResponseBodyFeature>() is not { } inner)
        {
            return null;
        }

        var body = new CompressedStreamBody(inner, frames);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        context.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            response.Headers.ContentEncoding = Encoding;
            response.Headers.Vary = "Accept-Encoding";
            return Task.CompletedTask;
        }, context.Response);
        return body;
    }

    /// <summary>Ends the gzip member (final block and trailer) while the response is still open; later writes are refused.</summary>
    public Task FinishAsync() => _stream.FinishAsync();

    public void DisableBuffering() => _inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("an event stream sends no files");

    public async Task CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.CompleteAsync();
        }

        await FinishAsync();
        await _inner.CompleteAsync();
    }

    /// <summary>
    /// Turns each write into a frame. The SSE formatter writes one whole event per call, so each
    /// event is one frame (any other split is still correct, only less shared).
    /// </summary>
    private sealed class FrameStream(SharedFrames frames, Stream transport) : Stream
    {
        /// <summary>A final, empty, fixed-Huffman block (BFINAL=1, BTYPE=01, end-of-block).</summary>
        private static readonly byte[] FinalBlock = [0x03, 0x00];

        private readonly Crc32 _crc = new();
        private SharedFrames.EventText? _previous;
        private long _length;
        private bool _started;
        private int _finished;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return;
            }

            ObjectDisposedException.ThrowIf(Volatile.Read(ref _finished) != 0, this);
            var text = frames.Intern(buffer.Span);
            var frame = text.FrameAfter(_previous);
            _previous = text;
            _crc.Append(buffer.Span);
            _length += buffer.Length;
            if (!_started)
            {
                // The member header goes out with the first frame, in one write.
                _started = true;
                frame = [.. Header, .. frame];
            }

            await transport.WriteAsync(frame, cancellationToken);
            await transport.FlushAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) =>
            WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public async Task FinishAsync()
        {
            if (Interlocked.Exchange(ref _finished, 1) != 0)
            {
                return;
            }

            var trailer = new byte[(_started ? 0 : Header.Length) + FinalBlock.Length + 8];
            var at = 0;
            if (!_started)
            {
                Header.CopyTo(trailer, 0);
                at = Header.Length;
            }

            FinalBlock.CopyTo(trailer, at);
            BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(at + 2), _crc.GetCurrentHashAsUInt32());
            BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(at + 6), unchecked((uint)_length));
            await transport.WriteAsync(trailer);
            await transport.FlushAsync();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
