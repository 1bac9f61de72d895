using IngestLite.Jobs;

namespace IngestLite.Tests.Support;

/// <summary>
/// The test host's <see cref="IFileGate"/>: open by default; <see cref="Hold"/> parks every run before its
/// next file, <see cref="Release"/> lets exactly that many files through, <see cref="Open"/> lets all go.
/// A test that needs a session in progress holds it here, so no step of the test races the run.
/// </summary>
public sealed class TestGate : IFileGate
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = NewSignal();
    private bool _held;
    private int _permits;
    private int _waiting;

    /// <summary>Files parked at the gate right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public async ValueTask WaitAsync(string sessionId, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (!_held)
                {
                    return;
                }

                if (_permits > 0)
                {
                    _permits--;
                    return;
                }

                changed = _changed.Task;
            }

            Interlocked.Increment(ref _waiting);
            try
            {
                await changed.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }

    /// <summary>From now on, no file starts until released.</summary>
    public void Hold()
    {
        lock (_lock)
        {
            _held = true;
            _permits = 0;
        }
    }

    /// <summary>Lets <paramref name="files"/> more files start (while held).</summary>
    public void Release(int files)
    {
        lock (_lock)
        {
            _permits += files;
            Signal();
        }
    }

    /// <summary>Lets every run go on freely.</summary>
    public void Open()
    {
        lock (_lock)
        {
            _held = false;
            _permits = 0;
            Signal();
        }
    }

    /// <summary>Waits until at least <paramref name="files"/> files are parked at the gate (the run is held there).</summary>
    public async Task WaitUntilParkedAsync(int files = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (Waiting < files)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no run reached the gate ({Waiting} parked, {files} expected)");
            }

            await Task.Delay(10);
        }
    }

    private void Signal()
    {
        var old = _changed;
        _changed = NewSignal();
        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
