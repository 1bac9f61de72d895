using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestLite.Progress;

/// <summary>Reports open streams and registry subscribers; degraded when streams near their cap, or the registry is cut off (its outage).</summary>
public sealed class StreamHealthCheck(StreamGate gate, IProgressRegistry registry, Microsoft.Extensions.Options.IOptions<StreamOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["open_streams"] = gate.OpenStreams,
            ["max_streams"] = options.Value.MaxStreams,
            ["subscribers"] = registry.SubscriberCount,
        };
        var nearCap = gate.OpenStreams >= options.Value.MaxStreams * 0.9;
        return Task.FromResult(registry.Outage is { } outage
            ? HealthCheckResult.Degraded(outage, data: data)
            : nearCap
            ? HealthCheckResult.Degraded("streams are near their cap", data: data)
            : HealthCheckResult.Healthy("streams ok", data));
    }
}
