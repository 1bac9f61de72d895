using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using IngestLite.Progress;

namespace IngestLite.Catalog;

/// <summary>Sessions and their per-file results: what was asked, what became of each file, the last snapshot saved.</summary>
public interface ISessionStore
{
    Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(int limit, bool runningOnly, CancellationToken cancellationToken);

    Task<SessionRecord?> GetSessionAsync(string id, CancellationToken cancellationToken);

    Task CreateSessionAsync(SessionRecord session, DiscoveryResult discovery, CancellationToken cancellationToken);

    /// <summary>The session's row only: its files come with <see cref="AddDiscoveredAsync"/>, as discovery finds them.</summary>
    Task CreateSessionAsync(SessionRecord session, CancellationToken cancellationToken);

    /// <summary>
    /// Records a chunk of what discovery found, in one transaction, numbered after <paramref name="after"/> (the last
    /// place and done number used); returns the new last ones. A pending file has no state; a skipped or failed one is done.
    /// </summary>
    Task<DiscoveredPlace> AddDiscoveredAsync(string sessionId, IReadOnlyList<DiscoveryItem> items, DiscoveredPlace after, CancellationToken cancellationToken);

    /// <summary>Files of a session that have no result yet, in discovery order, read a page at a time as they are taken.</summary>
    IAsyncEnumerable<(long Ord, DiscoveredFile File)> StreamPendingFilesAsync(string sessionId, CancellationToken cancellationToken);

    Task<IReadOnlyList<(long Ord, DiscoveredFile File)>> PendingFilesAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Adds files to a running session (a watch's), pending, after the ones it has.</summary>
    Task AppendFilesAsync(string sessionId, IReadOnlyList<DiscoveredFile> files, CancellationToken cancellationToken);

    Task SaveSnapshotAsync(ProgressSnapshot snapshot, CancellationToken cancellationToken);

    Task CommitFileAsync(string sessionId, long ord, MediaRecord? record, SessionFileResult result, FileTally tally, CancellationToken cancellationToken);

    /// <summary>Records a deferred session's processed file with its record held for the commit; the catalog is not touched.</summary>
    Task StageFileAsync(string sessionId, long ord, MediaRecord record, SessionFileResult result, FileTally tally, CancellationToken cancellationToken);

    /// <summary>A deferred session's files still held for its commit, in order, after <paramref name="afterOrd"/>.</summary>
    Task<IReadOnlyList<StagedFile>> StagedFilesAsync(string sessionId, long afterOrd, int limit, CancellationToken cancellationToken);

    Task<int> CountStagedAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Writes a staged file to the catalog and marks it committed, in one transaction.</summary>
    Task CommitStagedAsync(string sessionId, StagedFile file, CancellationToken cancellationToken);

    /// <summary>A staged file the catalog refused: it fails at stage <c>commit</c> and is held no more.</summary>
    Task FailStagedAsync(string sessionId, long ord, string reason, CancellationToken cancellationToken);

    Task<IReadOnlyList<SessionFileResult>> FileResultsAsync(string sessionId, string? state, int limit, CancellationToken cancellationToken);

    IAsyncEnumerable<SessionFileResult> QueryFileResultsAsync(string sessionId, FileResultFilter filter, CancellationToken cancellationToken);

    Task<FileResultTotals> SummarizeFileResultsAsync(string sessionId, CancellationToken cancellationToken);

    Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Ids with discovered files but no session row: a discovery still going on (the row comes last), or one cut short
    /// by a process that died during it.
    /// </summary>
    Task<IReadOnlyList<string>> SessionlessDiscoveriesAsync(CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="ISessionStore"/> on the catalog's database. A file's catalog row and its result are written in one
/// transaction, so the catalog and the session's results never disagree.
/// </summary>
public sealed class SessionStore(CatalogDatabase database, MediaCatalog media, PerceptualIndex similar) : ISessionStore
{
    private static readonly JsonSerializerOptions StagedJson = new(JsonSerializerDefaults.Web);

    /// <summary>Sessions newest first; with <paramref name="runningOnly"/>, those still running (left so by a previous process, at start-up).</summary>
    public async Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(int limit, bool runningOnly, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = runningOnly
            ? "SELECT id, parameters, status, created_at, snapshot, parent_id FROM sessions WHERE status IN ('starting','processing','committing') ORDER BY created_at DESC LIMIT @limit"
            : "SELECT id, parameters, status, created_at, snapshot, parent_id FROM sessions ORDER BY created_at DESC, id DESC LIMIT @limit";
        command.Set("@limit", limit);
        var sessions = new List<SessionRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(Sql.ReadSession(reader));
        }

        return sessions;
    }

    public async Task<SessionRecord?> GetSessionAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, parameters, status, created_at, snapshot, parent_id FROM sessions WHERE id = @id";
        command.Set("@id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Sql.ReadSession(reader) : null;
    }

    /// <summary>
    /// Creates a session with its discovery, in one transaction: skipped files and unlistable folders
    /// get their final result at once (in that order), files to ingest are pending.
    /// </summary>
    public Task CreateSessionAsync(SessionRecord session, DiscoveryResult discovery, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction, ct) =>
        {
            await InsertSessionAsync(connection, transaction, session, ct);
            IEnumerable<DiscoveryItem> items =
            [
                .. discovery.Skipped.Select(f => new DiscoveryItem(DiscoveryKind.Skipped, f)),
                .. discovery.Problems.Select(p => new DiscoveryItem(DiscoveryKind.Problem, new DiscoveredFile(p.Path, 0, DateTimeOffset.UnixEpoch), p.Message)),
                .. discovery.Files.Select(f => new DiscoveryItem(DiscoveryKind.Pending, f)),
            ];
            await InsertDiscoveredAsync(connection, transaction, session.Id, [.. items], default, ct);
        }, cancellationToken);

    public Task CreateSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction, ct) => InsertSessionAsync(connection, transaction, session, ct), cancellationToken);

    public async Task<DiscoveredPlace> AddDiscoveredAsync(string sessionId, IReadOnlyList<DiscoveryItem> items, DiscoveredPlace after, CancellationToken cancellationToken)
    {
        var place = after;
        await database.WriteAsync(async (connection, transaction, ct) => place = await InsertDiscoveredAsync(connection, transaction, sessionId, items, after, ct), cancellationToken);
        return place;
    }

    private static async Task InsertSessionAsync(DbConnection connection, DbTransaction transaction, SessionRecord session, CancellationToken ct)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO sessions(id, parent_id, created_at, parameters, status, snapshot) VALUES(@id, @parent, @created, @parameters, @status, @snapshot)";
        insert.Set("@id", session.Id);
        insert.Set("@parent", session.ParentId);
        insert.Set("@created", Sql.Timestamp(session.CreatedAt));
        insert.Set("@parameters", session.ParametersJson);
        insert.Set("@status", session.Status);
        insert.Set("@snapshot", session.SnapshotJson);
        await insert.ExecuteNonQueryAsync(ct);
    }

    private static readonly string[] DiscoveredColumns = ["session_id", "ord", "path", "size", "mtime", "state", "stage", "reason", "duration_ms", "done_seq"];

    private async Task<DiscoveredPlace> InsertDiscoveredAsync(
        DbConnection connection, DbTransaction transaction, string sessionId, IReadOnlyList<DiscoveryItem> items, DiscoveredPlace after, CancellationToken ct)
    {
        var (ord, done) = (after.Ord, after.Done);
        await database.Dialect.InsertRowsAsync(connection, transaction, "session_files", DiscoveredColumns, items.Select(item =>
        {
            var (state, reason) = item.Kind switch
            {
                DiscoveryKind.Skipped => (FileStates.Skipped, "unchanged since it was catalogued"),
                DiscoveryKind.Problem => (FileStates.Failed, item.Reason),
                _ => ((string?)null, (string?)null),
            };
            return new object?[]
            {
                sessionId, ++ord, CatalogText.Clean(item.File.Path), item.File.Size, item.File.ModifiedAt.ToUnixTimeMilliseconds(),
                state, state is null ? null : "discover", CatalogText.Clean(reason), 0L, state is null ? null : ++done,
            };
        }), ct);
        return new DiscoveredPlace(ord, done);
    }

    public Task AppendFilesAsync(string sessionId, IReadOnlyList<DiscoveredFile> files, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var file = connection.CreateCommand();
            file.Transaction = transaction;
            file.CommandText = """
                INSERT INTO session_files(session_id, ord, path, size, mtime, duration_ms)
                VALUES(@session, (SELECT coalesce(max(ord), 0) + 1 FROM session_files WHERE session_id = @session), @path, @size, @mtime, 0)
                """;
            file.Set("@session", sessionId);
            var pPath = file.Param("@path", DbType.String);
            var pSize = file.Param("@size", DbType.Int64);
            var pMtime = file.Param("@mtime", DbType.Int64);
            foreach (var pending in files)
            {
                pPath.Value = CatalogText.Clean(pending.Path);
                pSize.Value = pending.Size;
                pMtime.Value = pending.ModifiedAt.ToUnixTimeMilliseconds();
                await file.ExecuteNonQueryAsync(ct);
            }
        }, cancellationToken);

    /// <summary>Files of a session that have no result yet, in discovery order.</summary>
    public async IAsyncEnumerable<(long Ord, DiscoveredFile File)> StreamPendingFilesAsync(string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A page is read whole and its connection closed before its files are handed out: no read stays open while they are processed.
        const int Page = 4096;
        var page = new List<(long Ord, DiscoveredFile File)>(Page);
        do
        {
            var after = page.Count == 0 ? 0 : page[^1].Ord;
            page.Clear();
            await using (var connection = await database.OpenReadAsync(cancellationToken))
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT ord, path, size, mtime FROM session_files WHERE session_id = @id AND ord > @after AND state IS NULL ORDER BY ord LIMIT @limit";
                command.Set("@id", sessionId);
                command.Set("@after", after);
                command.Set("@limit", Page);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add((reader.GetInt64(0), new DiscoveredFile(reader.GetString(1), reader.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))));
                }
            }

            foreach (var pending in page)
            {
                yield return pending;
            }
        }
        while (page.Count == Page);
    }

    public async Task<IReadOnlyList<(long Ord, DiscoveredFile File)>> PendingFilesAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT ord, path, size, mtime FROM session_files WHERE session_id = @id AND state IS NULL ORDER BY ord";
        command.Set("@id", sessionId);
        var pending = new List<(long, DiscoveredFile)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add((reader.GetInt64(0), new DiscoveredFile(reader.GetString(1), reader.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))));
        }

        return pending;
    }

    /// <summary>Stores a session's snapshot (and its status, which queries filter on).</summary>
    public Task SaveSnapshotAsync(ProgressSnapshot snapshot, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "UPDATE sessions SET status = @status, snapshot = @snapshot WHERE id = @id";
            command.Set("@id", snapshot.SessionId);
            command.Set("@status", snapshot.Status.ToWire());
            command.Set("@snapshot", StoredSnapshot.ToText(snapshot));
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// Upserts one file (when <paramref name="record"/> is given) and records its result with what it added
    /// to the session's counters (<paramref name="tally"/>), in one transaction: the catalog and the
    /// session's results never disagree, and a crashed session's counters can be rebuilt from the results.
    /// </summary>
    public async Task CommitFileAsync(string sessionId, long ord, MediaRecord? record, SessionFileResult result, FileTally tally, CancellationToken cancellationToken)
    {
        long? id = null;
        await database.WriteAsync(async (connection, transaction, ct) =>
        {
            if (record is not null)
            {
                id = await media.UpsertAsync(transaction, sessionId, record, ct);
            }

            await RecordResultAsync(transaction, sessionId, ord, result, tally, staged: null, ct);
        }, cancellationToken);
        Indexed(id, record);
    }

    /// <summary>A committed image's hash goes into the near-duplicate index (a video's, or none, leaves it).</summary>
    private void Indexed(long? id, MediaRecord? record)
    {
        if (id is { } committed && record is not null)
        {
            similar.Set(committed, record.Kind == "image" ? record.PerceptualHash : null);
            media.Committed(committed, record);
        }
    }

    public Task StageFileAsync(string sessionId, long ord, MediaRecord record, SessionFileResult result, FileTally tally, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction, ct) =>
            RecordResultAsync(transaction, sessionId, ord, result, tally, JsonSerializer.Serialize(record, StagedJson), ct), cancellationToken);

    public async Task<IReadOnlyList<StagedFile>> StagedFilesAsync(string sessionId, long afterOrd, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT ord, staged, state FROM session_files WHERE session_id = @id AND staged IS NOT NULL AND ord > @after ORDER BY ord LIMIT @limit";
        command.Set("@id", sessionId);
        command.Set("@after", afterOrd);
        command.Set("@limit", limit);
        var files = new List<StagedFile>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var record = JsonSerializer.Deserialize<MediaRecord>(reader.GetString(1), StagedJson)!;
            files.Add(new StagedFile(reader.GetInt64(0), record, FileStates.FromStaged(reader.GetString(2))));
        }

        return files;
    }

    public async Task<int> CountStagedAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM session_files WHERE session_id = @id AND staged IS NOT NULL";
        command.Set("@id", sessionId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task CommitStagedAsync(string sessionId, StagedFile file, CancellationToken cancellationToken)
    {
        long? id = null;
        await database.WriteAsync(async (connection, transaction, ct) =>
        {
            id = await media.UpsertAsync(transaction, sessionId, file.Record with { IngestedAt = null }, ct);
            var command = database.Statement(transaction, "UPDATE session_files SET state = @state, staged = NULL WHERE session_id = @session AND ord = @ord");
            command.Set("@state", file.CommittedState);
            command.Set("@session", sessionId);
            command.Set("@ord", file.Ord);
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
        Indexed(id, file.Record);
    }

    public Task FailStagedAsync(string sessionId, long ord, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction, ct) =>
        {
            var command = database.Statement(transaction, "UPDATE session_files SET state = 'failed', stage = 'commit', reason = @reason, staged = NULL WHERE session_id = @session AND ord = @ord");
            command.Set("@reason", CatalogText.Clean(reason));
            command.Set("@session", sessionId);
            command.Set("@ord", ord);
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    /// <summary>A file's result and what it added to the session's counters, with its staged record if held for a commit.</summary>
    private async Task RecordResultAsync(DbTransaction transaction, string sessionId, long ord, SessionFileResult result, FileTally tally, string? staged, CancellationToken ct)
    {
        var command = database.Statement(transaction, """
            UPDATE session_files SET state = @state, stage = @stage, reason = @reason, size = @size, duration_ms = @ms,
                done_seq = (SELECT COALESCE(MAX(done_seq), 0) + 1 FROM session_files WHERE session_id = @session),
                metadata = @metadata, keywords = @keywords, score = @score, warnings = @warnings, staged = @staged
            WHERE session_id = @session AND ord = @ord
            """);
        command.Set("@metadata", tally.Metadata ? 1 : 0);
        command.Set("@keywords", tally.Keywords);
        command.Set("@score", tally.Score ? 1 : 0);
        command.Set("@warnings", tally.Warnings);
        command.Set("@session", sessionId);
        command.Set("@ord", ord);
        command.Set("@state", result.State);
        command.Set("@stage", result.Stage);
        command.Set("@reason", CatalogText.Clean(result.Reason));
        command.Set("@size", result.Size);
        command.Set("@ms", result.DurationMs);
        command.Set("@staged", staged);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Per-file results of a session, in processing order.</summary>
    public async Task<IReadOnlyList<SessionFileResult>> FileResultsAsync(string sessionId, string? state, int limit, CancellationToken cancellationToken) =>
        await QueryFileResultsAsync(sessionId, new FileResultFilter(state, null, 0, limit), cancellationToken).ToListAsync(cancellationToken);

    /// <summary>
    /// Streams per-file results after a cursor (the processing order, <see cref="SessionFileResult.Seq"/>),
    /// filtered by state and path text. Results are written in that order by the single writer, so a reader
    /// never sees a gap behind its cursor.
    /// </summary>
    public async IAsyncEnumerable<SessionFileResult> QueryFileResultsAsync(
        string sessionId, FileResultFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT path, state, stage, reason, size, duration_ms, done_seq FROM session_files
            WHERE session_id = @id AND done_seq > @after{(filter.State is null ? "" : " AND state = @state")}
              {(string.IsNullOrEmpty(filter.Text) ? "" : $"AND path {database.Dialect.Like} @like ESCAPE '\\'")}
            ORDER BY done_seq{(filter.Limit is null ? "" : " LIMIT @limit")}
            """;
        command.Set("@id", sessionId);
        command.Set("@after", filter.After);
        if (filter.State is { } state)
        {
            command.Set("@state", state);
        }

        if (!string.IsNullOrEmpty(filter.Text))
        {
            command.Set("@like", "%" + Sql.EscapeLike(filter.Text) + "%");
        }

        if (filter.Limit is { } limit)
        {
            command.Set("@limit", limit);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new SessionFileResult(
                reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? "" : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? 0 : reader.GetInt64(4),
                reader.IsDBNull(5) ? 0 : reader.GetInt64(5), reader.GetInt64(6));
        }
    }

    /// <summary>What a session's per-file results add up to: the counters a crashed run's snapshot lacks.</summary>
    public async Task<FileResultTotals> SummarizeFileResultsAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // Results from before the per-file counts were stored have NULLs there: a file with warnings counts one.
        command.CommandText = """
            SELECT
                COUNT(*) FILTER (WHERE state = 'committed'),
                COUNT(*) FILTER (WHERE state = 'committed_with_warnings'),
                COUNT(*) FILTER (WHERE state = 'failed' AND COALESCE(stage, '') <> 'discover'),
                COUNT(*) FILTER (WHERE state = 'failed' AND stage = 'discover'),
                COALESCE(SUM(metadata), 0),
                COALESCE(SUM(keywords), 0),
                COALESCE(SUM(score), 0),
                COALESCE(SUM(COALESCE(warnings, CASE WHEN state = 'committed_with_warnings' THEN 1 ELSE 0 END)), 0),
                COUNT(*) FILTER (WHERE state IN ('staged', 'staged_with_warnings'))
            FROM session_files WHERE session_id = @id AND state IS NOT NULL
            """;
        command.Set("@id", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new FileResultTotals(
            Sql.Int(reader, 0), Sql.Int(reader, 1), Sql.Int(reader, 2), Sql.Int(reader, 3),
            Sql.Int(reader, 4), Sql.Int(reader, 5), Sql.Int(reader, 6), Sql.Int(reader, 7), Sql.Int(reader, 8));
    }

    public async Task<IReadOnlyList<string>> SessionlessDiscoveriesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT d.session_id FROM (SELECT DISTINCT session_id FROM session_files) d
            WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = d.session_id)
            """;
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM session_files WHERE session_id = @id; DELETE FROM sessions WHERE id = @id; DELETE FROM marks WHERE name = @mark;";
            command.Set("@id", sessionId);
            command.Set("@mark", ICounterMarks.SessionSeq(sessionId));
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
}
