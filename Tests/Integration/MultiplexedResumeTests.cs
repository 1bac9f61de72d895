using IngestLite.Progress;
using IngestLite.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>The multiplexed stream resumed with an id this server never sent (a previous process's).</summary>
public sealed class MultiplexedResumeTests : ApiTest
{
    [Test]
    public async Task A_Last_Event_ID_above_the_current_version_gets_a_full_resync()
    {
        var registry = App.Services.GetRequiredService<IProgressRegistry>();
        var id = "resync-" + Guid.NewGuid().ToString("N")[..8];
        var now = DateTimeOffset.UtcNow;
        registry.Publish(new ProgressSnapshot(id, SessionStatus.Completed, 100, 1, null, null, 1, now, now, SessionStats.Empty, [], [], 1, now, 0, null));
        try
        {
            var unknown = registry.Version + 1_000_000;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var response = await SseReader.OpenAsync(Http, "api/ingest/stream", unknown.ToString(System.Globalization.CultureInfo.InvariantCulture), cts.Token);
            var sessions = new List<string>();
            await foreach (var e in SseReader.ReadAsync(response, cts.Token))
            {
                // A heartbeat comes only once the stream has sent what it had and gone idle.
                if (e.Type == "heartbeat")
                {
                    break;
                }

                sessions.Add(IngestClient.Parse(e.Data)["session_id"]!.GetValue<string>());
            }

            Assert.That(sessions, Does.Contain(id), "an id the server cannot know is treated as a fresh connection, not as 'up to date'");
        }
        finally
        {
            registry.Remove(id);
        }
    }
}
