using System.Globalization;
using IngestLite.Progress;
using Microsoft.Data.Sqlite;

namespace IngestLite.Catalog;

/// <summary>
/// The SQLite file under the catalog's stores: migrated when it is opened, written through one
/// connection (one transaction per call, prepared statements reused), read through pooled connections.
/// It also keeps the counters' durable marks. A failed write throws a <see cref="CatalogException"/>.
/// </summary>
public sealed class CatalogDatabase : IAsyncDisposable, ICounterMarks
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private SqliteConnection? _writer;

    /// <param name="path">The SQLite file; its folder is created if missing, its schema brought up to date.</param>
    public CatalogDatabase(string path)
    {
        FilePath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 5,
        }.ToString();

        // Before anything reads: the registry reads its version mark as it is built, at start-up.
        Migrate();
    }

    public string FilePath { get; }

    /// <summary>The catalog's schema version (<see cref="CatalogMigrations"/>).</summary>
    public long SchemaVersion { get; private set; }

    /// <summary>Runs <paramref name="work"/> in a write transaction; SQLite's errors become <see cref="CatalogException"/>s.</summary>
    public async Task WriteAsync(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _writer ??= await OpenWriterAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await _writer.BeginTransactionAsync(cancellationToken);
            await work(_writer, transaction, cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (SqliteException ex)
        {
            // A broken writer (disk full, file replaced) is reopened on the next write.
            foreach (var statement in _statements.Values)
            {
                await statement.DisposeAsync();
            }

            _statements.Clear();
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
                _writer = null;
            }

            throw CatalogException.From(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// A writer statement, prepared once and reused for every file (parsing SQL per file costs more than
    /// running it). Only code running inside <see cref="WriteAsync"/> calls this.
    /// </summary>
    public SqliteCommand Statement(SqliteTransaction transaction, string sql)
    {
        if (!_statements.TryGetValue(sql, out var command))
        {
            command = _writer!.CreateCommand();
            command.CommandText = sql;
            _statements[sql] = command;
        }

        command.Transaction = transaction;
        command.Parameters.Clear();
        return command;
    }

    public async Task<SqliteConnection> OpenReadAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public SqliteConnection OpenRead()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Reads a counter's mark (see <see cref="CounterLease"/>); 0 when there is none.</summary>
    public long ReadMark(string name)
    {
        using var connection = OpenRead();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT value FROM marks WHERE name = $name";
        read.Parameters.AddWithValue("$name", name);
        return read.ExecuteScalar() is long found ? found : 0;
    }

    /// <summary>Raises a counter's mark, never lowers it; committed when it returns. Rare (once per block of values).</summary>
    public void WriteMark(string name, long value) =>
        WriteAsync(async (connection, transaction, ct) =>
        {
            var command = Statement(transaction, "INSERT INTO marks(name, value) VALUES($name, $value) ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)");
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$value", value);
            await command.ExecuteNonQueryAsync(ct);
        }, CancellationToken.None).GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        foreach (var statement in _statements.Values)
        {
            await statement.DisposeAsync();
        }

        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }

        _writeLock.Dispose();
    }

    /// <summary>Runs the scripts the file has not run yet, each in a transaction that also records its number.</summary>
    private void Migrate()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        SchemaVersion = UserVersion(connection, null);
        var scripts = CatalogMigrations.Scripts;
        while (SchemaVersion < scripts.Count)
        {
            using var transaction = connection.BeginTransaction();

            // Another process may have migrated meanwhile: read the version inside the (write) transaction.
            var version = UserVersion(connection, transaction);
            if (version < scripts.Count)
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = $"{scripts[(int)version]}\nPRAGMA user_version = {(version + 1).ToString(CultureInfo.InvariantCulture)};";
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            SchemaVersion = Math.Max(version + 1, UserVersion(connection, null));
        }
    }

    private static long UserVersion(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private async Task<SqliteConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }
}
