using IngestLite.Api;
using IngestLite.Jobs;
using IngestLite.Progress;
using IngestLite.Security;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);

// One JSON shape everywhere: snake_case, UTC timestamps with milliseconds.
builder.Services.ConfigureHttpJsonOptions(options => ProgressWire.Configure(options.SerializerOptions));
builder.Services.AddProblemDetails();

// The ingest feature (options, catalog, registry, job). Its start-up service runs before Hangfire's server.
builder.Services.AddIngest();

// Live progress: stream limits, the stream gate and its health check.
builder.Services.AddProgressStreaming();

// Hangfire: in memory or on PostgreSQL (Storage:Provider), a server sized by validated options (not on a web node),
// stopped before the host gives up on it.
builder.Services.AddIngestJobs();

builder.Services.AddRazorPages();

var app = builder.Build();

// A worker node runs jobs and answers /healthz; pages, API, streams and the dashboard are the web nodes' (Node:Role).
if (app.Services.GetRequiredService<IOptions<NodeOptions>>().Value.ServesWeb)
{
    // Security headers on every response (CSP, nosniff); errors become ProblemDetails; static files for the UI.
    app.UseSecurityHeaders("/hangfire");
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.UseStaticFiles(new StaticFileOptions
    {
        // Modules import each other: a browser must revalidate them (cheap, by ETag) so an upgrade never mixes versions.
        OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
    });

    // The dashboard is local-only unless Hangfire:DashboardAllowRemote is set (see README for the risk).
    app.UseIngestDashboard("/hangfire");

    // The API: commands and history, progress (polling and streams), per-file results, catalog search; then the pages.
    app.MapIngestApi();
    app.MapProgressApi();
    app.MapSessionFilesApi();
    app.MapMediaApi();
    app.MapWatchApi();
    app.MapRazorPages();
    app.MapGet("/ingest-v2", () => TypedResults.LocalRedirect("/", permanent: true)).ExcludeFromDescription();
}

app.MapHealthChecks("/healthz", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync });

app.Run();

public partial class Program;
