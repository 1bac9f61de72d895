using System.Data;
using System.Data.Common;
using IngestLite.Progress;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace IngestLite.Catalog;

/// <summary>
/// The database under the catalog's stores, SQLite or PostgreSQL (<see cref="CatalogDialect"/>): migrated when it is opened,
/// written through one connection (one transaction per call, prepared statements reused), read through pooled
/// connections. It also keeps the counters' durable marks. A failed write throws a <see cref="CatalogException"/>.
/// </summary>
public sealed class CatalogDatabase : IAsyncDisposable, ICounterMarks
{
    private readonly DbDataSource _source;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<string, DbCommand> _statements = new(StringComparer.Ordinal);
    private DbConnection? _writer;

    /// <param name="path">The SQLite file; its folder is created if missing, its schema brought up to date.</param>
    public CatalogDatabase(string path)
        : this(SqliteSource(path), SqliteDialect.Instance, Path.GetFullPath(path))
    {
    }

    private CatalogDatabase(DbDataSource source, CatalogDialect dialect, string? filePath)
    {
        _source = source;
        Dialect = dialect;
        FilePath = filePath;

        // Before anything reads: the registry reads its version mark as it is built, at start-up.
        using var connection = _source.OpenConnection();
        SchemaVersion = dialect.Migrate(connection);
    }

    /// <summary>
    /// A catalog in PostgreSQL (the database must exist; its schema is brought up to date). Statements that repeat are
    /// prepared by Npgsql (<c>Max Auto Prepare</c>, 64 unless the connection string says otherwise).
    /// </summary>
    public static CatalogDatabase OpenPostgres(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
        }

        return new CatalogDatabase(NpgsqlDataSource.Create(builder), PostgresDialect.Instance, filePath: null);
    }

    /// <summary>The SQLite file; null on PostgreSQL.</summary>
    public string? FilePath { get; }

    /// <summary>The catalog's schema version (<see cref="CatalogMigrations"/>).</summary>
    public long SchemaVersion { get; }

    internal CatalogDialect Dialect { get; }

    private static DbDataSource SqliteSource(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 5,
        }.ToString());
    }

    /// <summary>Runs <paramref name="work"/> in a write transaction; the engine's errors become <see cref="CatalogException"/>s.</summary>
    public async Task WriteAsync(Func<DbConnection, DbTransaction, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_writer is { State: not ConnectionState.Open })
            {
                await CloseWriterAsync();
            }

            _writer ??= await OpenWriterAsync(cancellationToken);
            await using var transaction = await _writer.BeginTransactionAsync(cancellationToken);
            await work(_writer, transaction, cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (DbException ex)
        {
            // A broken writer (disk full, file replaced, connection lost) is reopened on the next write.
            await CloseWriterAsync();
            throw CatalogException.From(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// A writer statement, prepared once and reused for every file (parsing SQL per file costs more than
    /// running it): on SQLite the command itself is kept, on PostgreSQL Npgsql keeps the prepared statement.
    /// Only code running inside <see cref="WriteAsync"/> calls this.
    /// </summary>
    public DbCommand Statement(DbTransaction transaction, string sql)
    {
        if (!Dialect.ReusesCommands)
        {
            var fresh = _writer!.CreateCommand();
            fresh.CommandText = sql;
            fresh.Transaction = transaction;
            return fresh;
        }

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

    public async Task<DbConnection> OpenReadAsync(CancellationToken cancellationToken) => await _source.OpenConnectionAsync(cancellationToken);

    public DbConnection OpenRead() => _source.OpenConnection();

    /// <summary>Reads a counter's mark (see <see cref="CounterLease"/>); 0 when there is none.</summary>
    public long ReadMark(string name)
    {
        using var connection = OpenRead();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT value FROM marks WHERE name = @name";
        read.Set("@name", name);
        return read.ExecuteScalar() is long found ? found : 0;
    }

    /// <summary>Raises a counter's mark, never lowers it; committed when it returns. Rare (once per block of values).</summary>
    public void WriteMark(string name, long value) =>
        WriteAsync(async (connection, transaction, ct) =>
        {
            var command = Statement(transaction, "INSERT INTO marks(name, value) VALUES(@name, @value) ON CONFLICT(name) DO UPDATE SET value = excluded.value WHERE excluded.value > marks.value");
            command.Set("@name", name);
            command.Set("@value", value);
            await command.ExecuteNonQueryAsync(ct);
        }, CancellationToken.None).GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        await CloseWriterAsync();
        await _source.DisposeAsync();
        _writeLock.Dispose();
    }

    private async Task CloseWriterAsync()
    {
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
    }

    private async Task<DbConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken);
        await Dialect.PrepareWriterAsync(connection, cancellationToken);
        return connection;
    }
}
