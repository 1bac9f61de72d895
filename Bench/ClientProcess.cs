using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace IngestLite.Bench;

/// <summary>
/// Many SSE clients in a child process, so the server's memory and CPU are measured without them.
/// Modes: <c>hold URL N</c> opens N streams, reports "ready", holds them (unread) until a line on stdin;
/// <c>watch URL N</c> is the same but keeps reading, and reports the events each received;
/// <c>count URL N</c> opens N streams and reports the events each received once the server ends them;
/// <c>latency URL N FILE</c> follows N compressed streams with SseParser, as browsers would, and writes
/// when each client received each event id (Stopwatch ticks, one clock for every process) to FILE.
/// </summary>
public static class ClientProcess
{
    public const string Mode = "--client-process";

    public static async Task<int> RunAsync(string[] args)
    {
        var (mode, url, count) = (args[0], new Uri(args[1]), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        if (mode == "latency")
        {
            return await LatencyAsync(url, count, args[3]);
        }

        var ready = new CountdownEvent(count);
        var clock = Stopwatch.StartNew();
        var sockets = new Socket[count];
        var events = new long[count];
        var readers = new Task[count];
        using var throttle = new SemaphoreSlim(200);
        for (var i = 0; i < count; i++)
        {
            var index = i;
            await throttle.WaitAsync();
            readers[i] = Task.Run(async () =>
            {
                try
                {
                    sockets[index] = await OpenAsync(url, compressed: mode == "hold");
                }
                finally
                {
                    throttle.Release();
                }

                await ReadAsync(sockets[index], ready, mode == "hold", n => events[index] = n);
            });
        }

        if (!ready.Wait(TimeSpan.FromMinutes(3)))
        {
            Console.WriteLine($"failed {count - ready.CurrentCount} of {count} streams opened");
            return 1;
        }

        Console.WriteLine($"ready {clock.Elapsed.TotalMilliseconds:F0}");
        if (mode is "hold" or "watch")
        {
            await Console.In.ReadLineAsync();
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            Console.WriteLine(mode == "hold" ? "closed" : $"events {events.Sum()} {events.Min()} {events.Max()}");
            return 0;
        }

        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(5));
        Console.WriteLine($"events {events.Sum()} {events.Min()} {events.Max()}");
        return 0;
    }

    private static async Task<int> LatencyAsync(Uri url, int count, string output)
    {
        const int MaxSeq = 100_000;
        var received = new long[count][];
        using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All, MaxConnectionsPerServer = count + 10 })
        {
            Timeout = TimeSpan.FromMinutes(10),
        };
        var ready = new CountdownEvent(count);
        var readers = Enumerable.Range(0, count).Select(c => Task.Run(async () =>
        {
            var seen = new Dictionary<long, long>();
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var first = true;
            await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(body).EnumerateAsync())
            {
                var now = Stopwatch.GetTimestamp();
                if (item.EventId is { } id && long.TryParse(id, System.Globalization.CultureInfo.InvariantCulture, out var seq) && seq < MaxSeq)
                {
                    seen[seq] = now;
                }

                if (first)
                {
                    first = false;
                    ready.Signal();
                }
            }

            received[c] = [.. seen.SelectMany(kv => new[] { kv.Key, kv.Value })];
        })).ToList();

        if (!ready.Wait(TimeSpan.FromMinutes(3)))
        {
            Console.WriteLine($"failed {count - ready.CurrentCount} of {count} streams opened");
            return 1;
        }

        Console.WriteLine("ready");
        await Task.WhenAll(readers);
        await using (var file = new BinaryWriter(File.Create(output)))
        {
            foreach (var pairs in received)
            {
                file.Write(pairs.Length);
                foreach (var value in pairs)
                {
                    file.Write(value);
                }
            }
        }

        Console.WriteLine("done");
        return 0;
    }

    private static async Task<Socket> OpenAsync(Uri url, bool compressed)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(url.Host, url.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nAccept: text/event-stream\r\n{(compressed ? "Accept-Encoding: gzip, deflate, br, zstd\r\n" : "")}Connection: close\r\n\r\n"));
        return socket;
    }

    /// <summary>
    /// Counts events (blank-line terminated blocks with an event type) until the server closes the stream;
    /// with <paramref name="stopAfterFirst"/>, stops at the first body bytes (the first event, compressed or not).
    /// </summary>
    private static async Task ReadAsync(Socket socket, CountdownEvent ready, bool stopAfterFirst, Action<long> report)
    {
        var buffer = new byte[8192];
        long seen = 0;
        var signalled = false;
        var headersEnded = false;
        var bodyStarted = false;
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                seen += CountOccurrences(buffer.AsSpan(0, read), "event: "u8);
                report(seen);
                if (!headersEnded && buffer.AsSpan(0, read).IndexOf("\r\n\r\n"u8) is var end && end >= 0)
                {
                    headersEnded = true;
                    bodyStarted = end + 4 < read;
                }
                else
                {
                    bodyStarted |= headersEnded;
                }

                if (!signalled && (seen > 0 || (stopAfterFirst && bodyStarted)))
                {
                    signalled = true;
                    ready.Signal();
                    if (stopAfterFirst)
                    {
                        return;
                    }
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

    private static int CountOccurrences(ReadOnlySpan<byte> data, ReadOnlySpan<byte> token)
    {
        var count = 0;
        int at;
        while ((at = data.IndexOf(token)) >= 0)
        {
            count++;
            data = data[(at + token.Length)..];
        }

        return count;
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

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
