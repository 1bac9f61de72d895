using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestLite.Progress;

/// <summary>Writes a health report as JSON with each check's data (the built-in writer prints only the status).</summary>
public static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, ProgressWire.Options), context.RequestAborted);
    }
}
