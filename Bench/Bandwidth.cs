using System.Net.ServerSentEvents;
using System.Text.Json;
using IngestLite.Progress;
using IngestLite.Tests.Support;

namespace IngestLite.Bench;

/// <summary>Bytes on the wire (headers included) to follow one session by SSE, or by polling at 1 s and 100 ms.</summary>
public static class Bandwidth
{
    public sealed record Result(string Run, long SseBytes, long Poll1000Bytes, long Poll100Bytes, int Files, double Seconds);

    public static async Task<Result> RunAsync(AppHost app, string run, object parameters)
    {
        using var sse = CountingClient(app.BaseAddress, out var sseBytes);
        using var poll1000 = CountingClient(app.BaseAddress, out var poll1000Bytes);
        using var poll100 = CountingClient(app.BaseAddress, out var poll100Bytes);
        using var control = app.CreateRealClient();
        var id = await new Api(control).StartAsync(parameters);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var followers = new[] { FollowAsync(sse, id), PollAsync(poll1000, id, 1000), PollAsync(poll100, id, 100) };
        var files = (await Task.WhenAll(followers))[0];
        return new Result(run, sseBytes(), poll1000Bytes(), poll100Bytes(), files, started.Elapsed.TotalSeconds);
    }

    private static async Task<int> FollowAsync(HttpClient http, string id)
    {
        using var response = await http.GetAsync($"api/ingest/stream/{id}", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(body, static (_, data) => data.ToArray()).EnumerateAsync())
        {
            if (ProgressWire.IsFinalSnapshot(item.EventType, item.Data))
            {
                using var json = JsonDocument.Parse(item.Data);
                return json.RootElement.GetProperty("processed_files").GetInt32();
            }
        }

        throw new InvalidOperationException("the stream ended without done");
    }

    private static async Task<int> PollAsync(HttpClient http, string id, int intervalMs)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(intervalMs));
        do
        {
            using var json = JsonDocument.Parse(await http.GetByteArrayAsync($"api/ingest/status/{id}"));
            if (json.RootElement.GetProperty("status").GetString() is "completed" or "error" or "cancelled" or "interrupted")
            {
                return json.RootElement.GetProperty("processed_files").GetInt32();
            }
        }
        while (await timer.WaitForNextTickAsync());
        return 0;
    }

    /// <summary>
    /// An HttpClient whose connections count every byte read and written, headers included. It accepts
    /// compression as browsers do; the status endpoint answers uncompressed, as the replaced app did.
    /// </summary>
    public static HttpClient CountingClient(Uri baseAddress, out Func<long> bytes)
    {
        var total = new long[1];
        bytes = () => Interlocked.Read(ref total[0]);
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = System.Net.DecompressionMethods.All,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new CountingStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true), total);
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
    }

    private sealed class CountingStream(Stream inner, long[] total) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Count(count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Count(buffer.Length);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            Interlocked.Add(ref total[0], n);
            return n;
        }
    }
}
