using System.Net;
using System.Text.Json.Nodes;
using IngestLite.Jobs;
using IngestLite.Progress;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>DELETE of a session: it stays gone, and leaves nothing behind in memory.</summary>
public sealed class DeletionTests : ApiTest
{
    [Test]
    public async Task A_running_session_that_is_deleted_stays_gone_after_its_job_ends()
    {
        IngestApiTests.WritePngs(Folder, 4);
        var control = App.Services.GetRequiredService<SessionControl>();
        var registry = App.Services.GetRequiredService<IProgressRegistry>();
        App.Gate.Hold();
        try
        {
            var id = await Api.StartAsync(new { directory = Folder });
            await App.Gate.WaitUntilParkedAsync();
            Assert.That(control.IsRunning(id), Is.True, "the run is held at the gate");
            var progress = control.Running.Single(r => r.Progress.Current.SessionId == id).Progress;

            using (var delete = await Http.DeleteAsync($"api/ingest/session/{id}"))
            {
                Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            // The cancelled run ends by itself (its gate wait is cancelled) and calls Finish.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (control.IsRunning(id))
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the deleted session's run did not end");
                await Task.Delay(10);
            }

            // Here the run's Finish raced the delete and may have come first. In production it often comes
            // after (a file still committing when the cancel lands): replay that order, deterministically.
            progress.Finish(SessionStatus.Cancelled);

            Assert.That(registry.Get(id), Is.Null, "the job's final report must not bring the deleted session back");
            Assert.That(registry.All().Select(u => u.Snapshot.SessionId), Does.Not.Contain(id));
            using (var status = await Http.GetAsync($"api/ingest/status/{id}"))
            {
                Assert.That(status.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), await status.Content.ReadAsStringAsync());
            }

            var sessions = JsonNode.Parse(await Http.GetStringAsync("api/ingest/sessions?limit=1000"))!.AsArray();
            Assert.That(sessions.Select(s => s!["session_id"]!.GetValue<string>()), Does.Not.Contain(id));
        }
        finally
        {
            App.Gate.Open();
        }
    }

    [Test]
    public async Task Deleting_a_finished_session_leaves_no_cancel_flag_behind()
    {
        IngestApiTests.WritePngs(Folder, 1);
        var control = App.Services.GetRequiredService<SessionControl>();
        var id = await Api.StartAsync(new { directory = Folder });
        await Api.WaitForEndAsync(id);

        using (var delete = await Http.DeleteAsync($"api/ingest/session/{id}"))
        {
            Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(control.WasCancelled(id), Is.False, "no run will ever clear a flag set for a session that no longer runs");
    }
}
