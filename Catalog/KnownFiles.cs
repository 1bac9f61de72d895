using System.Data;
using System.Data.Common;

namespace IngestLite.Catalog;

/// <summary>A prepared "is this file already catalogued unchanged?" lookup over one connection.</summary>
public sealed class KnownFiles : IDisposable
{
    private readonly DbConnection _connection;
    private readonly DbCommand _command;
    private readonly DbParameter _path;

    internal KnownFiles(DbConnection connection)
    {
        _connection = connection;
        _command = connection.CreateCommand();
        _command.CommandText = "SELECT size, mtime FROM media WHERE path = @path AND missing_at IS NULL";
        _path = _command.Param("@path", DbType.String);
    }

    public bool IsUnchanged(DiscoveredFile file)
    {
        _path.Value = file.Path;
        using var reader = _command.ExecuteReader();
        return reader.Read() && reader.GetInt64(0) == file.Size && reader.GetInt64(1) == file.ModifiedAt.ToUnixTimeMilliseconds();
    }

    public void Dispose()
    {
        _command.Dispose();
        _connection.Dispose();
    }
}
