using System.Text.Encodings.Web;
using System.Text.Json;
using Hangfire.Dashboard;
using IngestLite.Jobs;
using IngestLite.Progress;

namespace IngestLite.Dashboard;

/// <summary>
/// The live panel above an ingest (or commit) job's history: a skeleton with the session's current snapshot in
/// a data attribute; the dashboard script renders it and follows the session's stream (a dashboard route).
/// Everything is HTML-encoded here, and the script writes text only.
/// </summary>
internal static class JobPanel
{
    public static NonEscapedString Render(JobDetailsRendererDto dto)
    {
        if (IngestJobStates.SessionOf(dto.JobDetails?.Job) is not { } sessionId)
        {
            return new NonEscapedString("");
        }

        var http = dto.Page.Context.GetHttpContext();
        var snapshot = http.RequestServices.GetRequiredService<IngestSessions>().FindAsync(sessionId, http.RequestAborted).GetAwaiter().GetResult();
        var e = HtmlEncoder.Default;
        var url = dto.Page.Url;
        var app = IngestDashboard.AppRoot(http);
        var html = $"""
            <div id="ingestlite-job" class="ingestlite-panel" data-session="{e.Encode(sessionId)}"
                 data-stream="{e.Encode(url.To("/ingest/stream/" + sessionId))}" data-poll="{e.Encode(url.To("/ingest/status/" + sessionId))}"
                 data-snapshot="{e.Encode(snapshot is null ? "" : JsonSerializer.Serialize(snapshot, ProgressWire.Options))}">
              <h3>Ingest session <code>{e.Encode(sessionId)}</code>
                <span class="label label-default" data-field="status">{e.Encode(snapshot?.Status.ToWire() ?? "deleted")}</span>
                <span class="label label-info ingestlite-mode" data-field="mode" title="How this panel gets its updates">CONNECTING</span></h3>
              <div class="progress ingestlite-progress"><div class="progress-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"></div></div>
              <p class="ingestlite-line"><strong data-field="percent">0%</strong> · <span data-field="files">—</span> · <span data-field="rate">—</span> · <span data-field="eta">—</span></p>
              <p class="ingestlite-line">Current: <span class="ingestlite-file" data-field="current">—</span> <span class="text-muted" data-field="stage"></span></p>
              <p class="ingestlite-line"><span data-field="committed">0</span> committed · <span data-field="skipped">0</span> skipped · <span data-field="errors">0</span> errors</p>
              <ol class="ingestlite-errors" aria-label="Last errors"></ol>
              <p class="ingestlite-line"><a class="ingestlite-open" href="{e.Encode(app + "?session=" + sessionId)}">Open on IngestLite's page</a> ·
                 <a class="ingestlite-report" href="{e.Encode(app + "api/ingest/report/" + sessionId)}">Report</a></p>
            </div>
            """;
        return new NonEscapedString(html);
    }
}
