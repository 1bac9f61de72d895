using System.Data.Common;
using System.Text;

namespace IngestLite.Catalog;

/// <summary>"Which of these files are already catalogued unchanged?", asked a folder's files at a time over one connection.</summary>
public sealed class KnownFiles : IDisposable
{
    /// <summary>Paths per query: a folder of thousands of files costs a few round trips, not one per file.</summary>
    public const int PathsPerQuery = 500;

    private readonly DbConnection _connection;

    internal KnownFiles(DbConnection connection) => _connection = connection;

    /// <summary>The paths of <paramref name="files"/> the catalog holds with the same size and mtime.</summary>
    public IReadOnlySet<string> Unchanged(IReadOnlyList<DiscoveredFile> files)
    {
        var unchanged = new HashSet<string>(StringComparer.Ordinal);
        for (var start = 0; start < files.Count; start += PathsPerQuery)
        {
            var batch = new Dictionary<string, DiscoveredFile>(StringComparer.Ordinal);
            foreach (var file in files.Skip(start).Take(PathsPerQuery))
            {
                batch[file.Path] = file;
            }

            using var command = _connection.CreateCommand();
            var sql = new StringBuilder("SELECT path, size, mtime FROM media WHERE missing_at IS NULL AND path IN (");
            var i = 0;
            foreach (var path in batch.Keys)
            {
                sql.Append(i == 0 ? "@p0" : $", @p{i}");
                command.Set($"@p{i++}", path);
            }

            command.CommandText = sql.Append(')').ToString();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var file = batch[reader.GetString(0)];
                if (reader.GetInt64(1) == file.Size && reader.GetInt64(2) == file.ModifiedAt.ToUnixTimeMilliseconds())
                {
                    unchanged.Add(file.Path);
                }
            }
        }

        return unchanged;
    }

    public void Dispose() => _connection.Dispose();
}
