using System.Text.Encodings.Web;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;

namespace IngestLite.Dashboard;

/// <summary>
/// The dashboard's "Ingest" page: running sessions live, one bar each, over one multiplexed stream, and the
/// recent finished ones. A skeleton with the recent sessions in a data attribute; the dashboard script renders it.
/// </summary>
internal sealed class IngestDashboardPage : RazorPage
{
    public override void Execute()
    {
        Layout = new LayoutPage("Ingest");
        var e = HtmlEncoder.Default;
        var http = Context.GetHttpContext();
        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
              <h1 class="page-header">Ingest <span class="label label-info ingestlite-mode" data-field="mode">CONNECTING</span></h1>
              <div id="ingestlite-dashboard" data-stream="{e.Encode(Url.To("/ingest/stream"))}" data-poll="{e.Encode(Url.To("/ingest/sessions"))}"
                   data-cancel="{e.Encode(Url.To("/ingest/cancel/"))}" data-job="{e.Encode(Url.To("/jobs/details/"))}" data-app="{e.Encode(IngestDashboard.AppRoot(http))}"
                   data-sessions="{e.Encode(IngestDashboard.RecentJson(http))}">
                <h3>Running</h3>
                <p id="ingestlite-none" class="text-muted">No ingest is running.</p>
                <ul id="ingestlite-running" class="list-unstyled ingestlite-running"></ul>
                <h3>Recent</h3>
                <table id="ingestlite-finished" class="table table-condensed">
                  <thead><tr><th>Session</th><th>Outcome</th><th>Files</th><th>Committed</th><th>Errors</th><th>Duration</th><th>Ended</th></tr></thead>
                  <tbody></tbody>
                </table>
              </div>
            </div></div>
            """);
    }
}
