using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using IngestLite.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace IngestLite.Progress;

/// <summary>
/// The read side of progress: the polling endpoint and the event streams. Streams carry the
/// same JSON as the status endpoint, serialized once per change and shared by every reader.
/// </summary>
public static class ProgressApi
{
    /// <summary>How many recent sessions the all-sessions stream sends on connect.</summary>
    private const int RecentSessionsOnConnect = 50;

    /// <summary>How long a web node waits to catch up with a resume point another node set (global versions).</summary>
    private static readonly TimeSpan CatchUpWait = TimeSpan.FromSeconds(1);

    /// <summary>How long a stream that sent its last event waits before it ends the response.</summary>
    private static readonly TimeSpan FinalEventHeadStart = TimeSpan.FromMilliseconds(20);

    public sealed record StreamMetrics(int OpenStreams, int Subscribers, int SessionsInMemory, long RegistryVersion);

    public static IServiceCollection AddProgressStreaming(this IServiceCollection services)
    {
        services.AddOptions<StreamOptions>().BindConfiguration(StreamOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<StreamGate>();
        services.AddSingleton<SharedFrames>();

        // Pacing state per followed session, and the multiplexed streams' pace: the stream layer's, not the registry's.
        services.AddSingleton<SessionPacing>();
        services.AddHealthChecks().AddCheck<StreamHealthCheck>("streams");
        return services;
    }

    public static IEndpointRouteBuilder MapProgressApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/ingest").WithTags("Progress");
        group.MapGet("/status/{sessionId}", StatusAsync);
        group.MapGet("/stream/{sessionId}", SessionStreamAsync);
        group.MapGet("/stream", AllSessionsStream);
        group.MapGet("/metrics", (StreamGate gate, IProgressRegistry registry) =>
            TypedResults.Ok(new StreamMetrics(gate.OpenStreams, registry.SubscriberCount, registry.All().Count, registry.Version)));
        return routes;
    }

    /// <summary>
    /// The status, session stream and multiplexed stream answered on another route with exactly the endpoints'
    /// behaviour: the Hangfire dashboard's, so that they answer only where the dashboard does.
    /// </summary>
    public static async Task WriteStatusAsync(HttpContext context, string sessionId)
    {
        var services = context.RequestServices;
        IResult result = await StatusAsync(sessionId, services.GetRequiredService<IProgressRegistry>(), services.GetRequiredService<ISessionArchive>(), context.RequestAborted);
        await result.ExecuteAsync(context);
    }

    /// <inheritdoc cref="WriteStatusAsync(HttpContext, string)"/>
    public static async Task WriteSessionStreamAsync(HttpContext context, string sessionId)
    {
        var s = context.RequestServices;
        IResult result = await SessionStreamAsync(sessionId, context, s.GetRequiredService<IProgressRegistry>(), s.GetRequiredService<ISessionArchive>(),
            s.GetRequiredService<StreamGate>(), s.GetRequiredService<SharedFrames>(), s.GetRequiredService<SessionPacing>(),
            s.GetRequiredService<IOptions<StreamOptions>>(), s.GetRequiredService<TimeProvider>(), context.Request.Headers["Last-Event-ID"]);
        await result.ExecuteAsync(context);
    }

    /// <inheritdoc cref="WriteStatusAsync(HttpContext, string)"/>
    public static Task WriteAllSessionsStreamAsync(HttpContext context)
    {
        var s = context.RequestServices;
        IResult result = AllSessionsStream(context, s.GetRequiredService<IProgressRegistry>(), s.GetRequiredService<StreamGate>(), s.GetRequiredService<SharedFrames>(),
            s.GetRequiredService<SessionPacing>(), s.GetRequiredService<IOptions<StreamOptions>>(), s.GetRequiredService<TimeProvider>(), context.Request.Headers["Last-Event-ID"]);
        return result.ExecuteAsync(context);
    }

    private static async Task<Results<Ok<ProgressSnapshot>, ProblemHttpResult>> StatusAsync(
        string sessionId, IProgressRegistry registry, ISessionArchive archive, CancellationToken cancellationToken) =>
        (registry.Get(sessionId)?.Snapshot ?? await archive.FindAsync(sessionId, cancellationToken)) is { } snapshot
            ? TypedResults.Ok(snapshot)
            : Problems.UnknownSession(sessionId);

    private static async Task<Results<ServerSentEventsResult<byte[]>, NoContent, ProblemHttpResult>> SessionStreamAsync(
        string sessionId,
        HttpContext context,
        IProgressRegistry registry,
        ISessionArchive archive,
        StreamGate gate,
        SharedFrames frames,
        SessionPacing pacing,
        IOptions<StreamOptions> options,
        TimeProvider time,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId)
    {
        // A session no longer held in memory is finished: answer with its final state from the catalog.
        var live = registry.Get(sessionId);
        var archived = live is null ? await archive.FindAsync(sessionId, context.RequestAborted) : null;
        if (live is null && archived is null)
        {
            return Problems.UnknownSession(sessionId);
        }

        // A reconnect after the final event: 204 tells an EventSource to stop (the HTML standard: any status
        // but 200 fails the connection for good). A session that runs again (a deferred commit) streams on.
        var afterSeq = ProgressWire.ParseEventId(lastEventId);
        var latest = live?.Snapshot ?? archived!;
        if (latest.Status.IsTerminal() && afterSeq >= latest.Seq)
        {
            return TypedResults.NoContent();
        }

        // An id above a running session's seq was never sent (seqs only grow, across crashes too): start afresh.
        if (afterSeq > latest.Seq)
        {
            afterSeq = -1;
        }

        if (!TryOpen(context, gate, frames, options.Value, out var busy, out var compressed))
        {
            return busy;
        }

        var events = archived is not null
            ? Final(archived, options.Value)
            : SessionEvents(registry, pacing.For(sessionId), sessionId, afterSeq, options.Value, time, context.RequestAborted);
        return TypedResults.ServerSentEvents(EndingWith(events, compressed, time, context.RequestAborted));
    }

    private static Results<ServerSentEventsResult<byte[]>, ProblemHttpResult> AllSessionsStream(
        HttpContext context,
        IProgressRegistry registry,
        StreamGate gate,
        SharedFrames frames,
        SessionPacing pacing,
        IOptions<StreamOptions> options,
        TimeProvider time,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId)
    {
        if (!TryOpen(context, gate, frames, options.Value, out var busy, out var compressed))
        {
            return busy;
        }

        var events = AllEvents(registry, pacing, ProgressWire.ParseEventId(lastEventId), options.Value, time, context.RequestAborted);
        return TypedResults.ServerSentEvents(EndingWith(events, compressed, time, context.RequestAborted));
    }

    /// <summary>Takes a stream slot for the life of the request and sets the anti-buffering headers.</summary>
    private static bool TryOpen(HttpContext context, StreamGate gate, SharedFrames frames, StreamOptions options, out ProblemHttpResult busy, out CompressedStreamBody? compressed)
    {
        busy = null!;
        compressed = null;
        var slot = gate.TryAcquire();
        if (slot is null)
        {
            context.Response.Headers.RetryAfter = "5";
            busy = TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many open streams.",
                detail: $"stream: the server holds its maximum of {options.MaxStreams} streams; retry shortly or poll /api/ingest/status/{{id}}");
            return false;
        }

        // Released when the request ends, however it ends (even if the stream never starts).
        context.Response.RegisterForDispose(slot);
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        compressed = options.Compression ? CompressedStreamBody.TryInstall(context, frames) : null;

        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            headers.CacheControl = "no-cache, no-transform";
            headers["X-Accel-Buffering"] = "no";
            return Task.CompletedTask;
        }, context);
        return true;
    }

    private static async IAsyncEnumerable<SseItem<byte[]>> SessionEvents(
        IProgressRegistry registry,
        SessionSampler sampler,
        string sessionId,
        long afterSeq,
        StreamOptions options,
        TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = registry.Subscribe(sessionId);
        if (subscription is null)
        {
            yield break;
        }

        var retry = TimeSpan.FromMilliseconds(options.RetryMilliseconds);
        var deadline = time.GetTimestamp() + (long)(options.MaxLifetime.TotalSeconds * time.TimestampFrequency);

        var first = true;
        var sentAny = false;
        var generation = 0L;
        var pace = sampler.Pace;

        // The session's version as the pace reads it (-1 once final or gone); one delegate for the stream's life.
        Func<long> version = () => registry.Get(sessionId) is { } latest
            ? (latest.Snapshot.Status.IsTerminal() ? -1 : latest.Snapshot.Seq)
            : -1;

        // Changes with every milestone of the session (its count changed, or its status): those skip the burst's pause.
        Func<long> milestone = () => registry.Get(sessionId)?.Milestones ?? -1;
        while (true)
        {
            if (!await subscription.WaitAsync(afterSeq, Remaining(deadline, time, options.HeartbeatInterval), time, cancellationToken))
            {
                if (time.GetTimestamp() >= deadline)
                {
                    yield break;
                }

                yield return ProgressWire.Heartbeat(first ? retry : null, registry.Outage);
                first = false;
                continue;
            }

            if (subscription.Latest is not { } update)
            {
                yield break;
            }

            // Coalesce bursts into their newest state, at the pace shared by the session's streams (see
            // SharedPace). The first event and a final state are never held back.
            if (!sentAny)
            {
                generation = pace.Generation;
            }
            else if (!update.Snapshot.Status.IsTerminal())
            {
                generation = await pace.WaitAsync(generation, version, options, time, milestone);
                update = registry.Get(sessionId) is { } newer && newer.Snapshot.Seq > update.Snapshot.Seq ? newer : update;
            }

            // Send what the session's other streams sent a moment ago, if newer than ours: one shared frame for all
            // (a newer state, if any, follows at the next look).
            update = Sampled(update, sampler, afterSeq, options, time);

            yield return ProgressWire.SessionSnapshot(update, first ? retry : null);
            sentAny = true;
            first = false;
            afterSeq = update.Snapshot.Seq;
            if (update.Snapshot.Status.IsTerminal())
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// Passes the events through; after the last one (already written and flushed) and a short head
    /// start for other streams' final events, ends a compressed stream while the response is still open.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<byte[]>> EndingWith(
        IAsyncEnumerable<SseItem<byte[]>> events, CompressedStreamBody? compressed, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in events.WithCancellation(cancellationToken))
        {
            yield return item;
        }

        // The last event is out. Ending a response costs several times what sending an event does, so
        // when many streams end together (a session finishing) they wait a moment first: every stream's
        // final event leaves before any stream's clean-up competes with it for the CPU. Measured at 100
        // streams: the final event's median went from 8-9 ms to 3-5 ms.
        await Task.Delay(FinalEventHeadStart, time);
        if (compressed is not null)
        {
            await compressed.FinishAsync();
        }
    }

    private static async IAsyncEnumerable<SseItem<byte[]>> Final(ProgressSnapshot snapshot, StreamOptions options)
    {
        await Task.CompletedTask;
        yield return ProgressWire.SessionSnapshot(new ProgressUpdate(snapshot, 0), TimeSpan.FromMilliseconds(options.RetryMilliseconds));
    }

    /// <summary>
    /// Every session's changes on one connection. Event ids are registry versions, so a reconnect
    /// with Last-Event-ID gets exactly the sessions that changed since. <c>removed</c> is sent for a
    /// deleted session only, not for one dropped from memory by retention.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<byte[]>> AllEvents(
        IProgressRegistry registry,
        SessionPacing pacing,
        long afterVersion,
        StreamOptions options,
        TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = registry.SubscribeAll();

        // Versions shared by the nodes (PostgreSQL) are global: an id above this node's version was sent by a node
        // ahead of this one by a few ms (a client moved between web nodes). Wait a moment for this node to catch up.
        if (afterVersion > registry.Version && registry.Outage is null && registry is PostgresProgressRegistry)
        {
            await subscription.WaitAsync(afterVersion - 1, CatchUpWait, time, cancellationToken);
        }

        // An id above the current version was not sent by this process (nor, since versions continue above
        // a crashed process's, by an earlier one): the client's state is unknown, so resync it as a fresh connection.
        if (afterVersion > registry.Version)
        {
            afterVersion = -1;
        }

        var retry = TimeSpan.FromMilliseconds(options.RetryMilliseconds);
        var deadline = time.GetTimestamp() + (long)(options.MaxLifetime.TotalSeconds * time.TimestampFrequency);
        var sent = new Dictionary<string, long>(StringComparer.Ordinal);
        var skipped = new Dictionary<string, long>(StringComparer.Ordinal);
        var first = true;
        var firstScan = true;
        var generation = 0L;
        var observed = -1L;
        Func<long> version = () => registry.Version;
        Func<long> milestone = () => registry.Milestones;

        while (true)
        {
            if (observed >= 0)
            {
                if (!await subscription.WaitAsync(observed, Remaining(deadline, time, options.HeartbeatInterval), time, cancellationToken))
                {
                    if (time.GetTimestamp() >= deadline)
                    {
                        yield break;
                    }

                    yield return ProgressWire.Heartbeat(first ? retry : null, registry.Outage);
                    first = false;
                    continue;
                }
            }

            generation = firstScan ? pacing.Multiplexed.Generation : await pacing.Multiplexed.WaitAsync(generation, version, options, time, milestone);

            // Read the version before scanning: a publish racing with the scan wakes the next wait.
            // A session not sent yet goes out if it changed after the resume point; then its seq decides.
            observed = registry.Version;
            var all = registry.All();
            var changed = all
                .Where(u => (sent.TryGetValue(u.Snapshot.SessionId, out var seq) || skipped.TryGetValue(u.Snapshot.SessionId, out seq))
                    ? u.Snapshot.Seq > seq
                    : u.Version > afterVersion)
                .OrderBy(u => u.Version)
                .ToList();
            if (firstScan && afterVersion < 0 && changed.Count > RecentSessionsOnConnect)
            {
                // A fresh page gets the most recent sessions; the older ones go out only when they change
                // (not all at the next change of any session), and leave silently (the page never had them).
                foreach (var older in changed[..^RecentSessionsOnConnect])
                {
                    skipped[older.Snapshot.SessionId] = older.Snapshot.Seq;
                }

                changed = changed[^RecentSessionsOnConnect..];
            }

            firstScan = false;
            foreach (var latest in changed)
            {
                // As on the session stream: what other streams sent a moment ago, so they share frames. A newer
                // state left behind is sent at the next look, as the version observed is put back before it.
                var update = Sampled(latest, pacing.For(latest.Snapshot.SessionId), sent.GetValueOrDefault(latest.Snapshot.SessionId, -1), options, time);
                if (update != latest)
                {
                    observed = Math.Min(observed, update.Version);
                }

                sent[update.Snapshot.SessionId] = update.Snapshot.Seq;
                skipped.Remove(update.Snapshot.SessionId);
                yield return ProgressWire.Snapshot(update, first ? retry : null, update.Version);
                first = false;
            }

            // Nothing to send on connect (no session yet): a heartbeat at once, so the response starts and the client
            // knows the stream is live now, not at the first heartbeat interval.
            if (first)
            {
                yield return ProgressWire.Heartbeat(retry, registry.Outage);
                first = false;
            }

            var live = all.Select(u => u.Snapshot.SessionId).ToHashSet(StringComparer.Ordinal);
            foreach (var id in skipped.Keys)
            {
                // Removing while enumerating is allowed for Dictionary (since .NET Core 3.0).
                if (!live.Contains(id))
                {
                    skipped.Remove(id);
                }
            }
            foreach (var gone in sent.Keys.Where(id => !live.Contains(id)).ToList())
            {
                sent.Remove(gone);

                // Only a deletion removes the page's row; a session retention forgot is still in the history.
                if (!registry.IsDeleted(gone))
                {
                    continue;
                }

                yield return ProgressWire.Removed(gone, observed);
            }
        }
    }

    /// <summary>
    /// The update to send instead of <paramref name="latest"/> (see <see cref="SessionSampler"/>): streams of a
    /// session sending within twice the quiet period of each other send the same one.
    /// </summary>
    private static ProgressUpdate Sampled(ProgressUpdate latest, SessionSampler sampler, long afterSeq, StreamOptions options, TimeProvider time) =>
        sampler.Take(latest, afterSeq, time.GetTimestamp(), (long)(options.QuietPeriod.TotalSeconds * 2 * time.TimestampFrequency));

    private static TimeSpan Remaining(long deadline, TimeProvider time, TimeSpan heartbeat)
    {
        var left = TimeSpan.FromSeconds((double)(deadline - time.GetTimestamp()) / time.TimestampFrequency);
        return left < heartbeat ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : heartbeat;
    }

}
