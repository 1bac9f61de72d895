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

    /// <summary>The Hangfire dashboard ships inline scripts and styles; it gets a policy that allows them but still nothing foreign.</summary>
    public const string DashboardPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, PathString dashboardPath) =>
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(dashboardPath) ? DashboardPolicy : ContentSecurityPolicy;
            return next(context);
        });
}
