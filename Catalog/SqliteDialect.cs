using System.Data.Common;
using System.Globalization;

namespace IngestLite.Catalog;

/// <summary>The catalog on SQLite: WAL, <c>PRAGMA user_version</c> as the schema version, FTS5 for full text.</summary>
internal sealed class SqliteDialect : CatalogDialect
{
    public static SqliteDialect Instance { get; } = new();

    public override IReadOnlyList<string> Migrations => CatalogMigrations.Sqlite;

    public override long Migrate(DbConnection connection)
    {
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        var reached = UserVersion(connection, null);
        var scripts = Migrations;
        while (reached < scripts.Count)
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
            reached = Math.Max(version + 1, UserVersion(connection, null));
        }

        return reached;
    }

    private static long UserVersion(DbConnection connection, DbTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public override bool ReusesCommands => true;

    public override async Task PrepareWriterAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
    }

    public override string List(string expression) => $"group_concat({expression}, char(31))";

    public override string Char(int code) => $"char({code.ToString(CultureInfo.InvariantCulture)})";

    public override string Like => "LIKE";

    public override string? TextQuery(string? text) => FtsQuery.From(text);

    public override string TextMatches(string parameter) => $"SELECT rowid FROM media_fts WHERE media_fts MATCH {parameter}";

    // FTS5 (contentless, rowid = media.id): each field its own column.
    public override string InsertText => "INSERT INTO media_fts(rowid, prompt, negative_prompt, path, keywords) VALUES(@id, @prompt, @negative, @path, @keywords)";

    public override void BindText(DbCommand command, long id, string? prompt, string? negativePrompt, string path, string? keywords)
    {
        command.Set("@id", id);
        command.Set("@prompt", prompt);
        command.Set("@negative", negativePrompt);
        command.Set("@path", path);
        command.Set("@keywords", keywords);
    }
}
