using System.Net.ServerSentEvents;
using System.Text;

namespace IngestLite.Tests.Support;

/// <summary>One parsed server-sent event, with the time it arrived.</summary>
public sealed record ReceivedEvent(string Type, string Data, string? Id, DateTime ReceivedAtUtc)
{
    /// <summary>A snapshot of a session's own stream: unnamed, so <c>onmessage</c> hears it (the parser calls it "message").</summary>
    public bool IsSessionSnapshot => Type == SseParser.EventTypeDefault;

    /// <summary>A session's final snapshot, on either stream.</summary>
    public bool IsFinal => IngestLite.Progress.ProgressWire.IsFinalSnapshot(Type, Encoding.UTF8.GetBytes(Data));
}

/// <summary>Reads an SSE endpoint over real HTTP with the platform's <see cref="SseParser"/>.</summary>
public static class SseReader
{
    public static async Task<HttpResponseMessage> OpenAsync(HttpClient http, string url, string? lastEventId = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Yields events until the server closes the stream or <paramref name="cancellationToken"/> fires.</summary>
    public static async IAsyncEnumerable<ReceivedEvent> ReadAsync(HttpResponseMessage response, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var parser = SseParser.Create(body, static (type, data) => Encoding.UTF8.GetString(data));
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            yield return new ReceivedEvent(item.EventType, item.Data, item.EventId, DateTime.UtcNow);
        }
    }

    /// <summary>Reads a whole stream into a list (until the server closes it), failing after <paramref name="timeout"/>.</summary>
    public static async Task<List<ReceivedEvent>> ReadAllAsync(HttpClient http, string url, string? lastEventId = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        using var response = await OpenAsync(http, url, lastEventId, cts.Token);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        var events = new List<ReceivedEvent>();
        await foreach (var e in ReadAsync(response, cts.Token))
        {
            events.Add(e);
        }

        return events;
    }
}
