using System.IO.Compression;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace IngestLite.Progress;

/// <summary>
/// Compresses one event stream (Brotli or gzip) and flushes the compressor with every event, so
/// nothing is held back. Successive snapshots are near-identical JSON, so an event costs tens of
/// bytes instead of hundreds. ASP.NET's response compression skips SSE on purpose (the result sends
/// <c>Content-Encoding: identity</c>) because it buffers; this one does not.
/// </summary>
public sealed class CompressedStreamBody : IHttpResponseBodyFeature
{
    private readonly IHttpResponseBodyFeature _inner;
    private readonly Stream _compressor;
    private readonly FlushingStream _stream;
    private PipeWriter? _writer;

    private CompressedStreamBody(IHttpResponseBodyFeature inner, string encoding)
    {
        _inner = inner;
        Encoding = encoding;
        // Quality 5 finds the repeats between successive snapshots; at a few events a second its CPU cost is negligible.
        _compressor = encoding == "br"
            ? new BrotliStream(inner.Stream, new BrotliCompressionOptions { Quality = 5 }, leaveOpen: true)
            : new GZipStream(inner.Stream, CompressionLevel.Optimal, leaveOpen: true);
        _stream = new FlushingStream(_compressor, inner.Stream);
    }

    public string Encoding { get; }

    public Stream Stream => _stream;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));

    /// <summary>Installs compression on this response when the client accepts Brotli or gzip; null otherwise.</summary>
    public static CompressedStreamBody? TryInstall(HttpContext context)
    {
        var accepted = context.Request.Headers.AcceptEncoding.ToString();
        var encoding = accepted.Contains("br", StringComparison.OrdinalIgnoreCase) ? "br"
            : accepted.Contains("gzip", StringComparison.OrdinalIgnoreCase) ? "gzip" : null;
        if (encoding is null || context.Features.Get<IHttpResponseBodyFeature>() is not { } inner)
        {
            return null;
        }

        var body = new CompressedStreamBody(inner, encoding);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        context.Response.OnStarting(static state =>
        {
            var (response, encoding) = ((HttpResponse, string))state;
            response.Headers.ContentEncoding = encoding;
            response.Headers.Vary = "Accept-Encoding";
            return Task.CompletedTask;
        }, (context.Response, encoding));
        return body;
    }

    /// <summary>
    /// Ends the compressed stream (its final block) while the response is still open. Call it after the
    /// last event; later flushes are ignored.
    /// </summary>
    public async Task FinishAsync()
    {
        if (_stream.Finish())
        {
            await _compressor.DisposeAsync();
            await _inner.Stream.FlushAsync();
        }
    }

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
    /// Writes through the compressor and flushes after every write: the SSE formatter writes one event
    /// per call, so each event leaves at once instead of waiting for a compressor block to fill.
    /// </summary>
    private sealed class FlushingStream(Stream compressor, Stream transport) : Stream
    {
        private int _finished;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>True the first time: the caller then closes the compressor.</summary>
        public bool Finish() => Interlocked.Exchange(ref _finished, 1) == 0;

        public override void Write(byte[] buffer, int offset, int count)
        {
            compressor.Write(buffer, offset, count);
            Flush();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await compressor.WriteAsync(buffer, cancellationToken);
            await FlushAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
            if (Volatile.Read(ref _finished) == 0)
            {
                compressor.Flush();
                transport.Flush();
            }
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _finished) == 0)
            {
                await compressor.FlushAsync(cancellationToken);
                await transport.FlushAsync(cancellationToken);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
