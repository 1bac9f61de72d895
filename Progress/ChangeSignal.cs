using System.Buffers;
using System.Threading.Tasks.Sources;

namespace IngestLite.Progress;

/// <summary>
/// A "something changed" edge that readers wait on, each with its own reusable <see cref="ChangeWaiter"/>.
/// Notify costs its caller one check, and one thread-pool item when anyone waits; that item wakes
/// every waiter. A wait allocates nothing, so a change wakes N readers for N pool items and no garbage.
/// </summary>
internal sealed class ChangeSignal : IThreadPoolWorkItem
{
    private readonly Lock _gate = new();
    private readonly List<ChangeWaiter> _waiting = [];
    private int _count;
    private int _scheduled;

    /// <summary>Waiters listed for the next change.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Wakes <paramref name="waiter"/> at the next <see cref="Notify"/> (once, however often it is added).</summary>
    public void Add(ChangeWaiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Index < 0)
            {
                waiter.Index = _waiting.Count;
                _waiting.Add(waiter);
            }

            // A full fence: the waiter reads the state after this, the notifier writes it before reading the count.
            Interlocked.Exchange(ref _count, _waiting.Count);
        }
    }

    /// <summary>Forgets a waiter that will not wait again (O(1): the last one takes its place).</summary>
    public void Remove(ChangeWaiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Index < 0)
            {
                return;
            }

            var last = _waiting[^1];
            _waiting[waiter.Index] = last;
            last.Index = waiter.Index;
            _waiting.RemoveAt(_waiting.Count - 1);
            waiter.Index = -1;
            Interlocked.Exchange(ref _count, _waiting.Count);
        }
    }

    public void Notify()
    {
        // Callers change the state with a full fence (an Interlocked) before notifying. Changes that come
        // before the wake-up runs share it: it reads every waiter's condition after they happened.
        if (Volatile.Read(ref _count) != 0 && Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        // A full fence: a change after this point queues a new wake-up.
        Interlocked.Exchange(ref _scheduled, 0);
        WakeAll();
    }

    private void WakeAll()
    {
        ChangeWaiter[] woken;
        int count;
        lock (_gate)
        {
            count = _waiting.Count;
            if (count == 0)
            {
                return;
            }

            woken = ArrayPool<ChangeWaiter>.Shared.Rent(count);
            _waiting.CopyTo(woken);
            _waiting.Clear();
            foreach (var waiter in woken.AsSpan(0, count))
            {
                waiter.Index = -1;
            }

            Interlocked.Exchange(ref _count, 0);
        }

        foreach (var waiter in woken.AsSpan(0, count))
        {
            waiter.OnChange();
        }

        ArrayPool<ChangeWaiter>.Shared.Return(woken, clearArray: true);
    }
}

/// <summary>
/// One reader's reusable wait on a <see cref="ChangeSignal"/>: it ends when the reader's condition holds
/// (true), when its timeout passes (false) or when its token is cancelled. One wait at a time. A timer
/// is created once and re-armed only when it fires early, so a wait costs no timer of its own; a
/// token is registered once for the waiter's life.
/// </summary>
internal abstract class ChangeWaiter(ChangeSignal signal) : IValueTaskSource<bool>, IDisposable
{
    private readonly Lock _timerGate = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private const long MaxTimeoutMilliseconds = uint.MaxValue - 2;

    /// <summary>The id of the pending wait, 0 when none: a late wake-up for an earlier wait cannot end a later one.</summary>
    private int _pending;
    private int _lastId;
    private long _after;
    private int _disposed;
    private TimeProvider _time = TimeProvider.System;
    private ITimer? _timer;
    private long _deadline;
    private long _timerDue = long.MaxValue;
    private CancellationToken _token;
    private CancellationTokenRegistration _registration;

    /// <summary>Where the signal lists this waiter, -1 when not listed; guarded by the signal's lock.</summary>
    internal int Index { get; set; } = -1;

    /// <summary>The reader's condition: something past <paramref name="after"/> (read without locks; the signal orders it after the change).</summary>
    protected abstract bool Ready(long after);

    /// <summary>Releases what the reader holds besides the wait; called once, by <see cref="Dispose"/>.</summary>
    protected virtual void OnDisposed()
    {
    }

    /// <summary>
    /// True at once when the reader's condition holds past <paramref name="after"/>; otherwise at the next change
    /// that makes it so; false at the timeout.
    /// </summary>
    public ValueTask<bool> WaitAsync(long after, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _after = after;
        if (timeout != Timeout.InfiniteTimeSpan && (timeout < TimeSpan.Zero || timeout.TotalMilliseconds > MaxTimeoutMilliseconds))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a timeout is infinite or between 0 and 49 days");
        }

        if (Ready(_after))
        {
            return new(true);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (timeout == TimeSpan.Zero)
        {
            return new(false);
        }

        _core.Reset();
        Watch(cancellationToken);
        var id = Interlocked.Increment(ref _lastId) is var next && next != 0 ? next : Interlocked.Increment(ref _lastId);
        lock (_timerGate)
        {
            // Pending and its deadline change together, so the timer never sees one without the other.
            Volatile.Write(ref _pending, id);
            Arm(time, timeout);
        }

        signal.Add(this);
        if (Ready(_after))
        {
            Complete(id, true);
        }
        else if (cancellationToken.IsCancellationRequested)
        {
            // Cancelled while the wait was set up: the registration's callback found nothing pending.
            Cancel();
        }

        return new(this, _core.Version);
    }

    /// <summary>Called by the signal after a change: ends the wait if the condition now holds, else waits on.</summary>
    internal void OnChange()
    {
        var id = Volatile.Read(ref _pending);
        if (id == 0)
        {
            return;
        }

        if (Ready(_after))
        {
            Complete(id, true);
            return;
        }

        // A change this reader had already seen (it read the state after the change, before this wake-up).
        signal.Add(this);
        if (Ready(_after))
        {
            Complete(id, true);
        }
    }

    private void Watch(CancellationToken cancellationToken)
    {
        // One registration for as long as the reader passes the same token (a stream passes its request's).
        if (cancellationToken != _token)
        {
            _registration.Dispose();
            _registration = default;
            _token = cancellationToken;
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static state => ((ChangeWaiter)state!).Cancel(), this);
            }
        }
    }

    /// <summary>Under the timer lock.</summary>
    private void Arm(TimeProvider time, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            _deadline = long.MaxValue;
            return;
        }

        if (!ReferenceEquals(time, _time))
        {
            _timer?.Dispose();
            _timer = null;
            _timerDue = long.MaxValue;
            _time = time;
        }

        _deadline = time.GetTimestamp() + (long)(timeout.TotalSeconds * time.TimestampFrequency);

        // A timer due before the deadline fires early and re-arms itself; only a later one is moved.
        if (_timerDue > _deadline)
        {
            _timerDue = _deadline;
            _timer ??= time.CreateTimer(static state => ((ChangeWaiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        lock (_timerGate)
        {
            _timerDue = long.MaxValue;
            if (_timer is null || Volatile.Read(ref _pending) == 0 || _deadline == long.MaxValue)
            {
                return;
            }

            // Timers count whole milliseconds (and may fire a little early): under 1 ms left is the deadline.
            var left = _deadline - _time.GetTimestamp();
            if (left >= _time.TimestampFrequency / 1000)
            {
                _timerDue = _deadline;
                _timer.Change(TimeSpan.FromMilliseconds(Math.Ceiling(left * 1000.0 / _time.TimestampFrequency)), Timeout.InfiniteTimeSpan);
                return;
            }

            // Inside the lock: a wait that begins now cannot be ended by this (older) deadline.
            Complete(Volatile.Read(ref _pending), false);
        }
    }

    private void Cancel()
    {
        if (Interlocked.Exchange(ref _pending, 0) != 0)
        {
            _core.SetException(new OperationCanceledException(_token));
        }
    }

    private void Complete(int id, bool result)
    {
        if (id != 0 && Interlocked.CompareExchange(ref _pending, 0, id) == id)
        {
            _core.SetResult(result);
        }
    }

    /// <summary>Stops listening; a wait still pending ends with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        signal.Remove(this);
        _registration.Dispose();
        lock (_timerGate)
        {
            _timer?.Dispose();
            _timer = null;
            _timerDue = long.MaxValue;
        }

        if (Interlocked.Exchange(ref _pending, 0) != 0)
        {
            _core.SetException(new ObjectDisposedException(GetType().Name));
        }

        OnDisposed();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
