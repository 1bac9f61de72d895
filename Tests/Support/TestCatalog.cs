using IngestLite.Catalog;

namespace IngestLite.Tests.Support;

/// <summary>The engines the catalog runs on: the catalog's unit fixtures run once on each.</summary>
public enum CatalogBackend
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// A new, empty catalog for one test on one backend: a SQLite file in a temporary folder, or a catalog in a new
/// PostgreSQL database (<see cref="PostgresDatabase"/>, dropped on dispose).
/// </summary>
public sealed class TestCatalog : IAsyncDisposable
{
    private readonly TempDirectory? _folder;
    private readonly PostgresDatabase? _postgres;

    private TestCatalog(CatalogDatabase database, TempDirectory? folder, PostgresDatabase? postgres)
    {
        Database = database;
        _folder = folder;
        _postgres = postgres;
    }

    public CatalogDatabase Database { get; }

    public static async Task<TestCatalog> CreateAsync(CatalogBackend backend)
    {
        if (backend == CatalogBackend.Sqlite)
        {
            var folder = new TempDirectory();
            return new TestCatalog(new CatalogDatabase(folder.Combine("catalog.db")), folder, null);
        }

        var postgres = await PostgresDatabase.CreateAsync();
        return new TestCatalog(CatalogDatabase.OpenPostgres(postgres.ConnectionString), null, postgres);
    }

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder?.Dispose();
    }
}
