namespace IngestLite.Security;

/// <summary>
/// Headers every response carries. Text from media files (names, prompts, EXIF) is shown on pages,
/// so pages may run only the app's own scripts: no inline script or style, nothing from elsewhere.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// The Hangfire dashboard (1.8) runs no inline script, so none is allowed there either; its pages carry a few
    /// style attributes (and Chart.js injects its CSS), so inline styles are. Streams and polls go to its own routes.
    /// </summary>
    public const string DashboardPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// nosniff on everything; the policy on documents (HTML), where it protects something. JSON and
    /// event streams are not rendered, and a poll or an event stream should not carry 300 bytes it cannot use.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, PathString dashboardPath) =>
        app.Use((context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.OnStarting(static state =>
            {
                var (response, dashboard) = ((HttpResponse, bool))state;
                if (response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
                {
                    response.Headers.ContentSecurityPolicy = dashboard ? DashboardPolicy : ContentSecurityPolicy;
                    response.Headers["Referrer-Policy"] = "no-referrer";
                }

                return Task.CompletedTask;
            }, (context.Response, context.Request.Path.StartsWithSegments(dashboardPath)));
            return next(context);
        });
}
