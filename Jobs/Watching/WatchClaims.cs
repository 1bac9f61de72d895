using Npgsql;

namespace IngestLite.Jobs.Watching;

/// <summary>
/// Which node runs each watch. One node: this one, always. Nodes sharing PostgreSQL: the node that holds the watch's
/// session-level advisory lock, on a connection of its own kept open for that. When the node dies its connection closes
/// and its locks go with it, so another node takes its watches at its next look (<see cref="WatchService"/>).
/// </summary>
public sealed class WatchClaims(string? connectionString) : IAsyncDisposable
{
    private const string Key = "hashtextextended('ingestlite-watch:' || @id, 0)";

    private readonly SemaphoreSlim _lock = new(1, 1);
    private NpgsqlConnection? _connection;

    // A connection that held locks broke during a claim: HoldAsync reports the loss once.
    private bool _lost;

    /// <summary>True when watches are shared among nodes (PostgreSQL).</summary>
    public bool Shared => connectionString is not null;

    /// <summary>True when this node runs the watch now (it had, or has just taken, its lock).</summary>
    public async Task<bool> TryClaimAsync(string watchId, CancellationToken cancellationToken) =>
        !Shared || await RunAsync($"SELECT pg_try_advisory_lock({Key})", watchId, cancellationToken);

    /// <summary>Lets another node take the watch.</summary>
    public async Task ReleaseAsync(string watchId, CancellationToken cancellationToken)
    {
        if (Shared)
        {
            await RunAsync($"SELECT pg_advisory_unlock({Key})", watchId, cancellationToken);
        }
    }

    /// <summary>False when the claims connection was lost (and with it every lock): the watches this node ran are no longer its own.</summary>
    public async Task<bool> HoldAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_lost)
            {
                _lost = false;
                return false;
            }

            if (!Shared || _connection is null)
            {
                return true;
            }

            if (_connection.FullState is System.Data.ConnectionState.Open)
            {
                await using var ping = new NpgsqlCommand("SELECT 1", _connection);
                await ping.ExecuteScalarAsync(cancellationToken);
                return true;
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
        }
        finally
        {
            _lock.Release();
        }

        // Never reopened here: a new connection holds none of the old one's locks; the caller lets its watches go first.
        await DisposeConnectionAsync();
        return false;
    }

    private async Task DisposeConnectionAsync()
    {
        await _lock.WaitAsync();
        try
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<bool> RunAsync(string sql, string watchId, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                _connection = new NpgsqlConnection(connectionString);
                await _connection.OpenAsync(cancellationToken);
            }

            await using var command = new NpgsqlCommand(sql, _connection);
            command.Parameters.AddWithValue("id", watchId);
            return await command.ExecuteScalarAsync(cancellationToken) is true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // A broken connection holds no lock any more: the next call opens a fresh one, and HoldAsync says so once.
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
                _lost = true;
            }

            throw;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _lock.Dispose();
    }
}
