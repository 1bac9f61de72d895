using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Text;
using IngestLite.Progress;

namespace IngestLite.Bench;

/// <summary>
/// Many SSE clients in a child process, so the server's memory and CPU are measured without them.
/// Every stream asks for compression, as browsers do.
/// Modes: <c>hold URL N</c> opens N streams (raw sockets), reports "ready" once each had its first
/// bytes, holds them unread until a line on stdin;
/// <c>count URL N</c> follows N streams with SseParser and reports the events each received once the server ends them;
/// <c>latency URL N FILE</c> follows N streams with SseParser and writes when each client received
/// each event id (Stopwatch ticks, one clock for every process) to FILE.
/// </summary>
public static class ClientProcess
{
    public const string Mode = "--client-process";

    public static async Task<int> RunAsync(string[] args)
    {
        var (mode, url, count) = (args[0], new Uri(args[1]), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        return mode switch
        {
            "hold" => await HoldAsync(url, count),
            "count" => await CountAsync(url, count),
            "latency" => await LatencyAsync(url, count, args[3]),
            "viewers" => await ViewersAsync(url, count),
            _ => throw new ArgumentException("unknown mode " + mode),
        };
    }

    private static async Task<int> HoldAsync(Uri url, int count)
    {
        var ready = new CountdownEvent(count);
        var clock = Stopwatch.StartNew();
        var sockets = new Socket[count];
        using var throttle = new SemaphoreSlim(200);
        for (var i = 0; i < count; i++)
        {
            var index = i;
            await throttle.WaitAsync();
            _ = Task.Run(async () =>
            {
                try
                {
                    sockets[index] = await OpenAsync(url);
                }
                finally
                {
                    throttle.Release();
                }

                await WaitForBodyAsync(sockets[index], ready);
            });
        }

        if (!ready.Wait(TimeSpan.FromMinutes(3)))
        {
            Console.WriteLine($"failed {count - ready.CurrentCount} of {count} streams opened");
            return 1;
        }

        Console.WriteLine($"ready {clock.Elapsed.TotalMilliseconds:F0}");
        await Console.In.ReadLineAsync();
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        Console.WriteLine("closed");
        return 0;
    }

    /// <summary>
    /// Ingest viewers, for as many runs as the parent asks (one process, so its start-up and JIT are paid
    /// once, as by browsers that stay open): "open" makes half open the multiplexed stream (a page open
    /// before the run) and reports "ready"; a session id then makes the other half follow that session's
    /// stream; "done" once every viewer saw the session's done event and all streams are closed again.
    /// </summary>
    private static async Task<int> ViewersAsync(Uri baseAddress, int count)
    {
        // A closed viewer closes its connection at once, as a browser tab does (HttpClient would otherwise
        // go on reading a disposed response for up to 2 s to reuse the connection).
        using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All, MaxConnectionsPerServer = count + 10, MaxResponseDrainSize = 0 })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(10),
        };
        while (await Console.In.ReadLineAsync() == "open")
        {
            byte[]? ours = null;
            var watchers = new List<Task>();
            for (var i = 0; i < count / 2; i++)
            {
                watchers.Add(await OpenViewerAsync(http, "api/ingest/stream", () => ours));
            }

            Console.WriteLine("ready");
            var id = await Console.In.ReadLineAsync() ?? throw new InvalidOperationException("no session id");
            ours = Encoding.UTF8.GetBytes($"{{\"session_id\":\"{id}\"");
            watchers.AddRange(await Task.WhenAll(Enumerable.Range(0, count - (count / 2)).Select(_ => OpenViewerAsync(http, $"api/ingest/stream/{id}", () => ours))));
            await Task.WhenAll(watchers).WaitAsync(TimeSpan.FromMinutes(5));
            Console.WriteLine("done");
        }

        return 0;
    }

    /// <summary>Opens a stream and waits for its first event; the task returned ends at the session's done event.</summary>
    private static async Task<Task> OpenViewerAsync(HttpClient http, string url, Func<byte[]?> session)
    {
        var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();

        // The data is only checked for whose it is, not kept (a browser would hand it to the page).
        var events = SseParser.Create(body, (type, data) => session() is { } ours && data.StartsWith(ours) && ProgressWire.IsFinalSnapshot(type, data)).EnumerateAsync().GetAsyncEnumerator();
        if (!await events.MoveNextAsync())
        {
            throw new InvalidOperationException("a viewer's stream ended before its first event");
        }

        return FollowViewerAsync(response, events);
    }

    private static async Task FollowViewerAsync(HttpResponseMessage response, IAsyncEnumerator<SseItem<bool>> events)
    {
        using (response)
        {
            await using (events)
            {
                do
                {
                    if (events.Current.Data)
                    {
                        return;
                    }
                }
                while (await events.MoveNextAsync());
            }
        }

        throw new InvalidOperationException("a viewer's stream ended without the session's done event");
    }

    private static async Task<int> CountAsync(Uri url, int count)
    {
        var events = new long[count];
        var result = await FollowAllAsync(url, count, (client, _, _) => events[client]++);
        if (result == 0)
        {
            Console.WriteLine($"events {events.Sum()} {events.Min()} {events.Max()}");
        }

        return result;
    }

    private static async Task<int> LatencyAsync(Uri url, int count, string output)
    {
        const int MaxSeq = 100_000;
        var seen = Enumerable.Range(0, count).Select(_ => new Dictionary<long, long>()).ToArray();
        var result = await FollowAllAsync(url, count, (client, id, now) =>
        {
            if (id is not null && long.TryParse(id, System.Globalization.CultureInfo.InvariantCulture, out var seq) && seq < MaxSeq)
            {
                seen[client][seq] = now;
            }
        });
        if (result != 0)
        {
            return result;
        }

        await using (var file = new BinaryWriter(File.Create(output)))
        {
            foreach (var pairs in seen)
            {
                file.Write(pairs.Count * 2);
                foreach (var (seq, at) in pairs)
                {
                    file.Write(seq);
                    file.Write(at);
                }
            }
        }

        Console.Error.WriteLine($"  clients' GCs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} (gen 0/1/2), paused {GC.GetTotalPauseDuration().TotalMilliseconds:F1} ms");
        Console.WriteLine("done");
        return 0;
    }

    /// <summary>
    /// Follows <paramref name="count"/> streams as browsers do (HttpClient asking for compression,
    /// SseParser), calls <paramref name="onEvent"/> with the client, the event id and the Stopwatch time
    /// of each event, prints "ready" once every stream had its first event, and returns when all ended.
    /// </summary>
    private static async Task<int> FollowAllAsync(Uri url, int count, Action<int, string?, long> onEvent)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All, MaxConnectionsPerServer = count + 10 })
        {
            Timeout = TimeSpan.FromMinutes(10),
        };
        var ready = new CountdownEvent(count);
        var readers = Enumerable.Range(0, count).Select(c => Task.Run(async () =>
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var first = true;
            // The data is not kept (a browser would hand it to the page): this process should spend its CPU on receiving.
            await foreach (var item in SseParser.Create(body, static (_, _) => 0).EnumerateAsync())
            {
                onEvent(c, item.EventId, Stopwatch.GetTimestamp());
                if (first)
                {
                    first = false;
                    ready.Signal();
                }
            }
        })).ToList();

        if (!ready.Wait(TimeSpan.FromMinutes(3)))
        {
            Console.WriteLine($"failed {count - ready.CurrentCount} of {count} streams opened");
            return 1;
        }

        Console.WriteLine("ready");
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(5));
        return 0;
    }

    private static async Task<Socket> OpenAsync(Uri url)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(url.Host, url.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nAccept: text/event-stream\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nConnection: close\r\n\r\n"));
        return socket;
    }

    /// <summary>Returns once the response's body has begun (its first event, compressed), or the connection ended.</summary>
    private static async Task WaitForBodyAsync(Socket socket, CountdownEvent ready)
    {
        var buffer = new byte[8192];
        var headersEnded = false;
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                var data = buffer.AsSpan(0, read);
                if (!headersEnded)
                {
                    var end = data.IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        continue;
                    }

                    headersEnded = true;
                    data = data[(end + 4)..];
                }

                if (!data.IsEmpty)
                {
                    ready.Signal();
                    return;
                }
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>The parent's handle on a <see cref="ClientProcess"/>.</summary>
public sealed class ChildClients : IDisposable
{
    private readonly Process _process;

    private ChildClients(Process process) => _process = process;

    public static ChildClients Start(string mode, Uri url, int count, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        string[] args = [typeof(ClientProcess).Assembly.Location, ClientProcess.Mode, mode, url.ToString(), count.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return new ChildClients(Process.Start(start)!);
    }

    /// <summary>The next line the child prints; throws when it prints a failure or nothing in time.</summary>
    public async Task<string> ReadLineAsync(TimeSpan timeout)
    {
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout) ?? throw new InvalidOperationException("client process ended");
        return line.StartsWith("failed", StringComparison.Ordinal) ? throw new InvalidOperationException(line) : line;
    }

    public async Task SendAsync(string line) => await _process.StandardInput.WriteLineAsync(line);

    /// <summary>The CPU time the child has used so far.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
