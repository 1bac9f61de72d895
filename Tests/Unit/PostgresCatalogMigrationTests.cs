using System.Data.Common;
using IngestLite.Catalog;
using IngestLite.Tests.Support;
using Microsoft.Data.Sqlite;

namespace IngestLite.Tests.Unit;

/// <summary>The PostgreSQL catalog's numbered scripts: run once each, recorded, by one node of several starting together, to SQLite's schema.</summary>
public sealed class PostgresCatalogMigrationTests
{
    private PostgresDatabase _postgres = null!;

    [SetUp]
    public async Task SetUp() => _postgres = await PostgresDatabase.CreateAsync();

    [TearDown]
    public async Task TearDown() => await _postgres.DisposeAsync();

    [Test]
    public async Task A_new_database_runs_every_script_once_recorded_in_schema_version_and_a_second_open_runs_none()
    {
        await using (var first = CatalogDatabase.OpenPostgres(_postgres.ConnectionString))
        {
            Assert.That(first.SchemaVersion, Is.EqualTo(CatalogMigrations.PostgreSql.Count));
            Assert.That(first.FilePath, Is.Null, "no file on PostgreSQL");
        }

        await using var again = CatalogDatabase.OpenPostgres(_postgres.ConnectionString);
        Assert.That(again.SchemaVersion, Is.EqualTo(CatalogMigrations.PostgreSql.Count));
        Assert.That(await VersionsAsync(again), Is.EqualTo(Enumerable.Range(1, CatalogMigrations.PostgreSql.Count).Select(v => (long)v)), "each script recorded once");
    }

    [Test]
    public async Task Nodes_opening_a_new_database_together_migrate_it_once()
    {
        // Without the advisory lock, two of them would both create the tables (or record script 1 twice) and fail.
        using var start = new Barrier(4);
        var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return CatalogDatabase.OpenPostgres(_postgres.ConnectionString);
        })));
        try
        {
            Assert.That(opened.Select(d => d.SchemaVersion), Is.All.EqualTo(CatalogMigrations.PostgreSql.Count));
            Assert.That(await VersionsAsync(opened[0]), Is.EqualTo(Enumerable.Range(1, CatalogMigrations.PostgreSql.Count).Select(v => (long)v)));
        }
        finally
        {
            foreach (var database in opened)
            {
                await database.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task The_tables_have_the_columns_of_the_SQLite_catalog()
    {
        using var temp = new TempDirectory();
        await using (var sqlite = new CatalogDatabase(temp.Combine("catalog.db")))
        {
            await using var postgres = CatalogDatabase.OpenPostgres(_postgres.ConnectionString);
            foreach (var table in new[] { "media", "media_keywords", "media_loras", "sessions", "session_files", "marks", "watches" })
            {
                var expected = await ColumnsAsync(sqlite, $"SELECT name FROM pragma_table_info('{table}')");
                var actual = await ColumnsAsync(postgres, $"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'");
                Assert.That(actual, Is.EquivalentTo(expected), table);
            }
        }

        SqliteConnection.ClearAllPools();
    }

    private static async Task<List<long>> VersionsAsync(CatalogDatabase database)
    {
        await using var connection = await database.OpenReadAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM schema_version ORDER BY version";
        return await ReadAsync(command, r => r.GetInt64(0));
    }

    private static async Task<List<string>> ColumnsAsync(CatalogDatabase database, string sql)
    {
        await using var connection = await database.OpenReadAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await ReadAsync(command, r => r.GetString(0));
    }

    private static async Task<List<T>> ReadAsync<T>(DbCommand command, Func<DbDataReader, T> read)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
