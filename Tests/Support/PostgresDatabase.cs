using Npgsql;

namespace IngestLite.Tests.Support;

/// <summary>
/// A new, empty PostgreSQL database for one test or fixture, on the server <c>INGESTLITE_POSTGRES</c> names
/// (scripts/test.sh starts a throwaway one); dropped, with any connection still open to it, on dispose.
/// Without that variable the test fails, saying how to get a server: these tests are never skipped.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string ServerVariable = "INGESTLITE_POSTGRES";

    private readonly string _server;

    private PostgresDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    /// <summary>To this database, as the server's user.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's connection string, or the test fails.</summary>
    public static string Server => Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } server
        ? server
        : throw new InvalidOperationException(
            $"{ServerVariable} is not set: these tests need a PostgreSQL server. Run them through 'bash scripts/test.sh', which starts " +
            $"a throwaway one, or set {ServerVariable} to a connection string of a user that may create databases.");

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var database = new PostgresDatabase(Server, $"ingestlite_t_{Guid.NewGuid():N}"[..21]);
        await database.RunOnServerAsync($"CREATE DATABASE {database.Name}");
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await RunOnServerAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private async Task RunOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
