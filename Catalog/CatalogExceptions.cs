using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace IngestLite.Catalog;

/// <summary>A write the catalog could not make; callers need not know which database is underneath.</summary>
public abstract class CatalogException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>The exception a failed write becomes: catalog-wide, or this row refused.</summary>
    internal static CatalogException From(DbException ex) => IsCatalogWide(ex)
        ? new CatalogUnavailableException($"catalog unavailable: {ex.Message}", ex)
        : new CatalogRejectedException(ex.Message, ex);

    private static bool IsCatalogWide(DbException ex) => ex switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode is
            5 /* BUSY */ or 6 /* LOCKED */ or 8 /* READONLY */ or 10 /* IOERR */ or 11 /* CORRUPT */ or
            13 /* FULL */ or 14 /* CANTOPEN */ or 26 /* NOTADB */,

        // A value refused (22), a constraint (23), a transaction rolled back (40: deadlock, serialization) is this write's;
        // the rest (connection 08, resources 53, shutdown 57P, system 58, read-only 25, access 28/42...) the catalog's.
        PostgresException postgres => postgres.SqlState[..2] is not ("22" or "23" or "40"),

        // Npgsql's own: the server unreachable, the connection broken, a timeout.
        _ => true,
    };
}

/// <summary>The catalog as a whole cannot be written (read-only, locked, full, unreachable): a run stops with one clear error.</summary>
public sealed class CatalogUnavailableException(string message, Exception inner) : CatalogException(message, inner);

/// <summary>This one write was refused (a constraint, a value the database would not take); other writes may succeed.</summary>
public sealed class CatalogRejectedException(string message, Exception inner) : CatalogException(message, inner);
