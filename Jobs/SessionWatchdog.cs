using IngestLite.Progress;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>Marks running sessions that have not changed for <see cref="IngestOptions.StallTimeout"/> as stalled.</summary>
public sealed partial class SessionWatchdog(
    SessionControl control,
    IOptionsMonitor<IngestOptions> options,
    TimeProvider time,
    ILogger<SessionWatchdog> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var limit = options.CurrentValue.StallTimeout;
                await Task.Delay(TimeSpan.FromTicks(Math.Clamp(limit.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(1).Ticks)), time, stoppingToken);
                var now = time.GetUtcNow();
                foreach (var run in control.Running)
                {
                    var current = run.Progress.Current;
                    var idle = now - current.UpdatedAt;
                    if (!current.Stalled && !current.Status.IsTerminal() && idle > limit)
                    {
                        run.Progress.MarkStalled(idle);
                        LogStalled(logger, current.SessionId, idle.TotalSeconds, current.CurrentPath);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} has made no progress for {Seconds:0} s (file {File})")]
    private static partial void LogStalled(ILogger logger, string sessionId, double seconds, string? file);
}
