using System.Text.Json;
using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.Dashboard;
using IngestLite.Jobs;
using IngestLite.Progress;

namespace IngestLite.Dashboard;

/// <summary>
/// IngestLite inside the Hangfire dashboard: a live panel on an ingest job's details page, an "Ingest" page
/// with every running session, the jobs' % in the Processing list, and the routes they read. Every route is
/// the dashboard's own (<see cref="DashboardRoutes"/>), so the dashboard's authorization (local requests only,
/// by default) and antiforgery apply to it. The script and stylesheet are Hangfire's bundled extension files:
/// no inline script; every text from a session is written as text.
/// </summary>
public static class IngestDashboard
{
    private const string Id = "(?<id>[0-9a-f]{32})";
    private const int RecentSessions = 20;

    private static int _registered;

    /// <summary>Hangfire's dashboard extension points are process-wide lists: registered once, whatever the number of hosts.</summary>
    public static void Register(IGlobalConfiguration configuration, PathString dashboardPath)
    {
        DashboardPath = dashboardPath;
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        var assembly = typeof(IngestDashboard).Assembly;
        configuration.UseJobDetailsRenderer(10, JobPanel.Render);
        configuration.UseDashboardJavaScript(assembly, "IngestLite.Dashboard.ingest-dashboard.js");
        configuration.UseDashboardStylesheet(assembly, "IngestLite.Dashboard.ingest-dashboard.css");

        var routes = DashboardRoutes.Routes;
        routes.AddRazorPage("/ingest", _ => new IngestDashboardPage());
        routes.Add("/ingest/stream", new Get((http, _) => ProgressApi.WriteAllSessionsStreamAsync(http)));
        routes.Add($"/ingest/stream/{Id}", new Get((http, match) => ProgressApi.WriteSessionStreamAsync(http, match.Groups["id"].Value)));
        routes.Add($"/ingest/status/{Id}", new Get((http, match) => ProgressApi.WriteStatusAsync(http, match.Groups["id"].Value)));
        routes.Add("/ingest/sessions", new Get(async (http, _) =>
            await TypedResults.Ok(await http.RequestServices.GetRequiredService<IngestSessions>().ListAsync(RecentSessions, http.RequestAborted)).ExecuteAsync(http)));
        routes.Add($"/ingest/cancel/{Id}", new Post(async (http, match) =>
        {
            // The API's own cancel: a watch's session stops its watch here too.
            var services = http.RequestServices;
            var result = await Api.IngestApi.CancelAsync(match.Groups["id"].Value, services.GetRequiredService<IngestSessions>(),
                services.GetRequiredService<Jobs.Watching.WatchService>(), http.RequestAborted);
            await result.ExecuteAsync(http);
        }));

        NavigationMenu.Items.Add(page => new MenuItem("Ingest", page.Url.To("/ingest"))
        {
            Active = page.RequestPath.StartsWith("/ingest", StringComparison.OrdinalIgnoreCase),
        });
    }

    /// <summary>Where the dashboard is mounted (under the app's path base).</summary>
    private static PathString DashboardPath { get; set; }

    /// <summary>IngestLite's own root (its page, its API) seen from a dashboard request, whose path base ends with the dashboard's path.</summary>
    internal static string AppRoot(HttpContext http)
    {
        var pathBase = http.Request.PathBase.Value ?? "";
        var dashboard = DashboardPath.Value ?? "";
        return (pathBase.EndsWith(dashboard, StringComparison.OrdinalIgnoreCase) ? pathBase[..^dashboard.Length] : pathBase) + "/";
    }

    /// <summary>The recent sessions as the Ingest page's script first renders them (the wire's JSON).</summary>
    internal static string RecentJson(HttpContext http)
    {
        var sessions = http.RequestServices.GetRequiredService<IngestSessions>().ListAsync(RecentSessions, http.RequestAborted).GetAwaiter().GetResult();
        return JsonSerializer.Serialize(sessions, ProgressWire.Options);
    }

    /// <summary>A GET route of the dashboard answered by ASP.NET Core code.</summary>
    private sealed class Get(Func<HttpContext, Match, Task> answer) : IDashboardDispatcher
    {
        public Task Dispatch(DashboardContext context) => answer(context.GetHttpContext(), context.UriMatch);
    }

    /// <summary>A POST route (Hangfire has checked its antiforgery token); refused in a read-only dashboard.</summary>
    private sealed class Post(Func<HttpContext, Match, Task> answer) : IDashboardDispatcher
    {
        public Task Dispatch(DashboardContext context)
        {
            var http = context.GetHttpContext();
            if (!HttpMethods.IsPost(http.Request.Method))
            {
                http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                return Task.CompletedTask;
            }

            if (context.IsReadOnly)
            {
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            }

            return answer(http, context.UriMatch);
        }
    }
}
