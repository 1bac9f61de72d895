using System.Data.Common;

namespace IngestLite.Catalog;

/// <summary>
/// Everything the catalog's SQL says differently on SQLite and on PostgreSQL: the migrations and how they are
/// recorded, a connection's set-up, string lists, case-blind LIKE and the full-text index. The stores share every
/// other statement; what both engines take (coalesce, ON CONFLICT, @name parameters) is written once.
/// </summary>
internal abstract class CatalogDialect
{
    /// <summary>The numbered scripts of this engine (<see cref="CatalogMigrations"/>).</summary>
    public abstract IReadOnlyList<string> Migrations { get; }

    /// <summary>Runs the scripts the catalog has not run yet, each in a transaction that records its number; returns the version reached.</summary>
    public abstract long Migrate(DbConnection connection);

    /// <summary>
    /// Whether the writer keeps a command per statement and runs it again (SQLite: the prepared statement is the
    /// command's). When false, each run gets a new command, which the driver prepares by its text.
    /// </summary>
    public abstract bool ReusesCommands { get; }

    /// <summary>Sets up the one writer connection once it is open.</summary>
    public abstract Task PrepareWriterAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>An aggregate joining <paramref name="expression"/>'s values with U+001F (the reader splits on it).</summary>
    public abstract string List(string expression);

    /// <summary>The one-character string of a code point.</summary>
    public abstract string Char(int code);

    /// <summary>LIKE blind to ASCII case, as SQLite's LIKE is.</summary>
    public abstract string Like { get; }

    /// <summary>A person's search text as this engine's full-text query (see <see cref="FtsQuery"/>); null when there is nothing to search for.</summary>
    public abstract string? TextQuery(string? text);

    /// <summary>A SELECT of the ids (column <c>rowid</c>) whose full-text entry matches the query in <paramref name="parameter"/>.</summary>
    public abstract string TextMatches(string parameter);

    /// <summary>The statement that writes a file's full-text entry; <see cref="BindText"/> gives its parameters.</summary>
    public abstract string InsertText { get; }

    public abstract void BindText(DbCommand command, long id, string? prompt, string? negativePrompt, string path, string? keywords);

    /// <summary>
    /// Writes many rows into <paramref name="table"/> in the open transaction, each a value per column (long, string
    /// or null). Here one prepared INSERT runs per row, which costs SQLite no round trip.
    /// </summary>
    public virtual async Task InsertRowsAsync(
        DbConnection connection, DbTransaction transaction, string table, IReadOnlyList<string> columns, IEnumerable<object?[]> rows, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"INSERT INTO {table}({string.Join(", ", columns)}) VALUES({string.Join(", ", columns.Select(c => "@" + c))})";
        var parameters = columns.Select(c => insert.Set("@" + c, null)).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                parameters[i].Value = row[i] ?? DBNull.Value;
            }

            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
