using IngestLite.Catalog;
using IngestLite.Tests.Support;
using Microsoft.Data.Sqlite;

namespace IngestLite.Tests.Unit;

/// <summary>The catalog's numbered migrations: a new file, a file made before them, and opening twice.</summary>
public sealed class CatalogMigrationTests
{
    private TempDirectory _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempDirectory();

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Test]
    public async Task A_new_catalog_runs_every_script_once_and_a_second_open_runs_none()
    {
        var path = _dir.Combine("new.db");
        await using (var first = new CatalogDatabase(path))
        {
            Assert.That(first.SchemaVersion, Is.EqualTo(CatalogMigrations.Sqlite.Count));
        }

        await using var again = new CatalogDatabase(path);
        Assert.That(again.SchemaVersion, Is.EqualTo(CatalogMigrations.Sqlite.Count));
        Assert.That(Columns(path, "session_files"), Does.Contain("warnings"));
    }

    [Test]
    public async Task A_catalog_made_before_numbered_migrations_keeps_its_rows_and_gains_the_new_columns()
    {
        // The schema as the app created it before numbered migrations: user_version 0, no per-file counts, no marks.
        var path = _dir.Combine("old.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = CatalogMigrations.Sqlite[0] + """
                INSERT INTO sessions(id, created_at, parameters, status, snapshot) VALUES('s1', '2026-01-01T00:00:00.000Z', '{}', 'completed', '{}');
                INSERT INTO session_files(session_id, ord, path, state) VALUES('s1', 1, 'a.png', 'committed');
                """;
            create.ExecuteNonQuery();
        }

        await using var database = new CatalogDatabase(path);

        Assert.That(database.SchemaVersion, Is.EqualTo(CatalogMigrations.Sqlite.Count));
        Assert.That(Columns(path, "session_files"), Is.SupersetOf(new[] { "metadata", "keywords", "score", "warnings" }));
        Assert.That(database.ReadMark("registry_version"), Is.Zero, "the marks table exists and is empty");
        using var connection = database.OpenRead();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM session_files WHERE session_id = 's1' AND warnings IS NULL";
        Assert.That(count.ExecuteScalar(), Is.EqualTo(1L), "the old result is still there, its new columns NULL");
    }

    private static List<string> Columns(string path, string table)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
