using System.Data;
using System.Data.Common;

namespace IngestLite.Catalog;

/// <summary>A watched folder as the catalog keeps it: its session, its folder (root-relative) and the options of its ingests as JSON.</summary>
public sealed record WatchRecord(string Id, string SessionId, string Directory, string ParametersJson, DateTimeOffset CreatedAt);

/// <summary>The watched folders, kept in the catalog so that they restart with the app.</summary>
public sealed class WatchStore(CatalogDatabase database)
{
    public async Task<IReadOnlyList<WatchRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, session_id, directory, parameters, created_at FROM watches ORDER BY created_at, id";
        var watches = new List<WatchRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            watches.Add(new WatchRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), Sql.NullableDate(reader, 4) ?? DateTimeOffset.UnixEpoch));
        }

        return watches;
    }

    public Task AddAsync(WatchRecord watch, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO watches(id, session_id, directory, parameters, created_at) VALUES(@id, @session, @directory, @parameters, @created)";
            insert.Set("@id", watch.Id);
            insert.Set("@session", watch.SessionId);
            insert.Set("@directory", watch.Directory);
            insert.Set("@parameters", watch.ParametersJson);
            insert.Set("@created", Sql.Timestamp(watch.CreatedAt));
            await insert.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    public Task DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM watches WHERE id = @id";
            delete.Set("@id", id);
            await delete.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
}
