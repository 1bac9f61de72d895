using System.Data.Common;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace IngestLite.Catalog;

/// <summary>
/// The catalog on PostgreSQL: a <c>schema_version</c> table records the scripts run, under an advisory lock so that
/// nodes starting together migrate one after the other; full text is a tsvector per file (<see cref="PostgresText"/>).
/// </summary>
internal sealed class PostgresDialect : CatalogDialect
{
    public static PostgresDialect Instance { get; } = new();

    /// <summary>The advisory lock key the migrations take ("IngestLi" in ASCII).</summary>
    private const long MigrationLock = 0x496E676573744C69;

    public override IReadOnlyList<string> Migrations => CatalogMigrations.PostgreSql;

    public override long Migrate(DbConnection connection)
    {
        while (true)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;

            // Held until this transaction ends: another node's migration waits here, then reads the version this one left.
            command.CommandText = $"""
                SELECT pg_advisory_xact_lock({MigrationLock.ToString(CultureInfo.InvariantCulture)});
                CREATE TABLE IF NOT EXISTS schema_version (version bigint PRIMARY KEY, applied_at text NOT NULL);
                """;
            command.ExecuteNonQuery();
            command.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
            var version = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (version >= Migrations.Count)
            {
                transaction.Commit();
                return version;
            }

            command.CommandText = Migrations[(int)version];
            command.ExecuteNonQuery();
            command.CommandText = "INSERT INTO schema_version(version, applied_at) VALUES(@version, @at)";
            command.Set("@version", version + 1);
            command.Set("@at", Sql.Timestamp(DateTimeOffset.UtcNow));
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    // Npgsql prepares by SQL text per connection (Max Auto Prepare). A reused NpgsqlCommand whose parameters are
    // cleared and added again keeps running with the values of its first prepared run (seen with Npgsql 10.0.3).
    public override bool ReusesCommands => false;

    public override Task PrepareWriterAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    public override string List(string expression) => $"string_agg({expression}, chr(31))";

    public override string Char(int code) => $"chr({code.ToString(CultureInfo.InvariantCulture)})";

    // The path columns are COLLATE "C", under which ILIKE folds ASCII letters only, as SQLite's LIKE does.
    public override string Like => "ILIKE";

    public override string? TextQuery(string? text) => PostgresText.Query(FtsQuery.Terms(text));

    public override string TextMatches(string parameter) => $"SELECT rowid FROM media_fts WHERE doc @@ CAST({parameter} AS tsquery)";

    public override string InsertText => "INSERT INTO media_fts(rowid, doc) VALUES(@id, CAST(@doc AS tsvector))";

    public override void BindText(DbCommand command, long id, string? prompt, string? negativePrompt, string path, string? keywords)
    {
        command.Set("@id", id);
        command.Set("@doc", PostgresText.Vector(prompt, negativePrompt, path, keywords));
    }

    /// <summary>A binary COPY: the rows stream to the server in one go, where an INSERT each would wait for a round trip each.</summary>
    public override async Task InsertRowsAsync(
        DbConnection connection, DbTransaction transaction, string table, IReadOnlyList<string> columns, IEnumerable<object?[]> rows, CancellationToken cancellationToken)
    {
        await using var copy = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(
            $"COPY {table}({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var row in rows)
        {
            await copy.StartRowAsync(cancellationToken);
            foreach (var value in row)
            {
                await (value switch
                {
                    null => copy.WriteNullAsync(cancellationToken),
                    long number => copy.WriteAsync(number, NpgsqlDbType.Bigint, cancellationToken),
                    string text => copy.WriteAsync(text, NpgsqlDbType.Text, cancellationToken),
                    _ => throw new ArgumentException($"a {value.GetType().Name} in a row for {table}: only long, string or null", nameof(rows)),
                });
            }
        }

        await copy.CompleteAsync(cancellationToken);
    }
}
