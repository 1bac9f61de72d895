using System.IO.Compression;
using System.Text;
using IngestLite.Progress;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace IngestLite.Tests.Unit;

public sealed class SharedFramesTests
{
    /// <summary>Events shaped like the stream's: ids and counters change, most bytes repeat.</summary>
    private static readonly byte[][] Events = [.. Enumerable.Range(1, 20).Select(i => Encoding.UTF8.GetBytes(
        i % 9 == 0
            ? "event: heartbeat\ndata: {}\n\n"
            : $"event: progress\nid: {i * 7}\ndata: {{\"session_id\":\"s1\",\"status\":\"processing\",\"processed_files\":{i * 31},\"current_file\":\"a/b/img-{i * 31:D5}.png\",\"stats\":{{\"committed_files\":{i * 30},\"errors\":{i / 5}}},\"seq\":{i * 7}}}\n\n"))];

    [Test]
    public async Task Streams_joining_at_different_events_each_decode_exactly_what_they_were_sent_and_share_frames()
    {
        var frames = new SharedFrames();
        int[] joins = [0, 3, 3, 7, 12];
        var streams = joins.Select(_ => Open(frames, "gzip, deflate, br")).ToList();
        for (var e = 0; e < Events.Length; e++)
        {
            for (var s = 0; s < streams.Count; s++)
            {
                if (e >= joins[s])
                {
                    await streams[s].Context.Response.Body.WriteAsync(Events[e]);
                }
            }
        }

        for (var s = 0; s < streams.Count; s++)
        {
            await streams[s].Body.FinishAsync();
            var expected = Events.Skip(joins[s]).SelectMany(b => b).ToArray();
            Assert.That(Gunzip(streams[s].Wire.ToArray()), Is.EqualTo(expected), $"stream {s} (joined at event {joins[s]}), CRC and length checked by GZipStream");
        }

        // One keyframe per distinct join point (4) and one delta per step of the sequence (19): not one per stream.
        Assert.That(frames.FramesCompressed, Is.EqualTo(4 + 19));
        Assert.That(streams[0].Wire.Length, Is.LessThan(Events.Sum(e => e.Length) / 3), "deltas are small");
    }

    [Test]
    public void The_frame_most_streams_take_stays_while_rare_ones_come_and_go()
    {
        var frames = new SharedFrames();
        var common = frames.Intern(Events[0]);
        var next = frames.Intern(Events[1]);
        for (var i = 0; i < 40; i++)
        {
            next.FrameAfter(common);

            // A stream that joined late: its previous event is one no other stream sent.
            next.FrameAfter(frames.Intern(Encoding.UTF8.GetBytes($"event: progress\nretry: 1000\ndata: {{\"joined\":{i}}}\n\n")));
            next.FrameAfter(common);
        }

        Assert.That(frames.FramesCompressed, Is.EqualTo(1 + 40), "the common frame once, each rare one once");
    }

    [Test]
    public void Groups_of_streams_at_different_points_need_one_frame_each_per_event([Values(2, 6)] int groups)
    {
        var frames = new SharedFrames();
        var previous = Enumerable.Range(0, groups).Select(g => frames.Intern(Events[g])).ToArray();
        var next = frames.Intern(Events[10]);
        for (var round = 0; round < 30; round++)
        {
            foreach (var text in previous)
            {
                next.FrameAfter(text);
            }
        }

        Assert.That(frames.FramesCompressed, Is.EqualTo(groups), "streams interleaving from several points do not evict each other's frames");
    }

    [Test]
    public async Task Every_event_is_decodable_as_soon_as_it_is_written()
    {
        var (context, _, wire) = Open(new SharedFrames(), "gzip");
        var sent = new List<byte>();
        foreach (var e in Events)
        {
            await context.Response.Body.WriteAsync(e);
            sent.AddRange(e);
            Assert.That(InflateAvailable(wire.ToArray().AsSpan(10).ToArray()), Is.EqualTo(sent.ToArray()));
        }
    }

    [Test]
    public async Task A_stream_whose_previous_event_left_the_cache_still_decodes()
    {
        var frames = new SharedFrames();
        var (context, body, wire) = Open(frames, "gzip");
        await context.Response.Body.WriteAsync(Events[0]);
        var other = Open(frames, "gzip");
        for (var i = 0; i < 1500; i++)
        {
            await other.Context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes($"event: progress\ndata: {{\"n\":{i}}}\n\n"));
        }

        await context.Response.Body.WriteAsync(Events[1]);
        await body.FinishAsync();
        Assert.That(Gunzip(wire.ToArray()), Is.EqualTo(Events[0].Concat(Events[1]).ToArray()));
    }

    [Test]
    public async Task Texts_no_stream_needs_any_more_are_released()
    {
        var frames = new SharedFrames();
        var (context, _, _) = Open(frames, "gzip");
        await context.Response.Body.WriteAsync(Events[0]);
        var first = Track(frames, Events[0]);
        for (var i = 0; i < 1500; i++)
        {
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes($"event: progress\ndata: {{\"n\":{i}}}\n\n"));
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.That(first.IsAlive, Is.False, "a text is not kept alive by the frames that followed it");
    }

    /// <summary>A weak reference to the shared text of <paramref name="bytes"/>, made out of the caller's frame.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference Track(SharedFrames frames, byte[] bytes) => new(frames.Intern(bytes));

    [Test]
    public async Task A_stream_finished_before_any_event_is_an_empty_valid_gzip_member()
    {
        var (_, body, wire) = Open(new SharedFrames(), "gzip");
        await body.FinishAsync();
        await body.FinishAsync();
        Assert.That(Gunzip(wire.ToArray()), Is.Empty);
    }

    [TestCase("gzip", true)]
    [TestCase("gzip, deflate, br, zstd", true)]
    [TestCase("*", true)]
    [TestCase("br", false)]
    [TestCase("gzip;q=0, br", false)]
    [TestCase("identity", false)]
    [TestCase("", false)]
    public void Compression_is_installed_only_when_the_client_accepts_gzip(string acceptEncoding, bool installed)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.AcceptEncoding = acceptEncoding;
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(new MemoryStream()));
        Assert.That(CompressedStreamBody.TryInstall(context, new SharedFrames()) is not null, Is.EqualTo(installed));
    }

    private static (HttpContext Context, CompressedStreamBody Body, MemoryStream Wire) Open(SharedFrames frames, string acceptEncoding)
    {
        var wire = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Request.Headers.AcceptEncoding = acceptEncoding;
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(wire));
        var body = CompressedStreamBody.TryInstall(context, frames) ?? throw new AssertionException("compression not installed");
        return (context, body, wire);
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var gzip = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Inflates what a client holds so far (no final block yet), as a browser would while the stream is open.</summary>
    private static byte[] InflateAvailable(byte[] deflate)
    {
        using var inflate = new DeflateStream(new MemoryStream(deflate), CompressionMode.Decompress);
        var output = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = inflate.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException)
        {
            // The input ends where the next frame will go; everything before it has been returned.
        }

        return output.ToArray();
    }
}
