namespace IngestLite.Jobs;

/// <summary>
/// Passed by every file of a run (and of a deferred commit) before it starts. A host can hold runs here: the tests do, to keep a
/// session in progress for exactly as long as they need instead of hoping a throttled run outlasts
/// their steps. The default gate never waits and costs one interface call per file.
/// </summary>
public interface IFileGate
{
    ValueTask WaitAsync(string sessionId, CancellationToken cancellationToken);
}

/// <summary>The production gate: always open.</summary>
internal sealed class OpenFileGate : IFileGate
{
    public ValueTask WaitAsync(string sessionId, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
