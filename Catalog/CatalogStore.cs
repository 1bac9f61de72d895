using System.Globalization;
using System.Text;
using System.Text.Json;
using IngestLite.Progress;
using Microsoft.Data.Sqlite;

namespace IngestLite.Catalog;

/// <summary>
/// The SQLite catalog: media rows, their keywords, sessions and per-file results.
/// Writes go through one connection, one transaction per file; reads use pooled connections.
/// </summary>
public sealed class CatalogStore : IAsyncDisposable, ICounterMarks
{
    private const char ListSeparator = '\u001f';

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TimeProvider _time;
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private SqliteConnection? _writer;

    /// <param name="path">The SQLite file; its folder is created if missing.</param>
    public CatalogStore(string path, TimeProvider time)
    {
        _time = time;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 5,
        }.ToString();
        FilePath = Path.GetFullPath(path);
    }

    public string FilePath { get; }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await WriteAsync(static async (connection, transaction, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Schema;
            await command.ExecuteNonQueryAsync(ct);

            // Catalogs made before the per-file counts: add their columns (NULL for the results already there).
            await using var columns = connection.CreateCommand();
            columns.Transaction = transaction;
            columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('session_files') WHERE name = 'warnings'";
            if (Convert.ToInt64(await columns.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) == 0)
            {
                await using var alter = connection.CreateCommand();
                alter.Transaction = transaction;
                alter.CommandText = """
                    ALTER TABLE session_files ADD COLUMN metadata INTEGER;
                    ALTER TABLE session_files ADD COLUMN keywords INTEGER;
                    ALTER TABLE session_files ADD COLUMN score INTEGER;
                    ALTER TABLE session_files ADD COLUMN warnings INTEGER;
                    """;
                await alter.ExecuteNonQueryAsync(ct);
            }
        }, cancellationToken);
    }

    /// <summary>Sessions left running by a previous process; they are marked interrupted by the caller.</summary>
    public async Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(int limit, bool runningOnly, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = runningOnly
            ? "SELECT id, parameters, status, created_at, snapshot, parent_id FROM sessions WHERE status IN ('starting','processing') ORDER BY created_at DESC LIMIT $limit"
            : "SELECT id, parameters, status, created_at, snapshot, parent_id FROM sessions ORDER BY created_at DESC, id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        var sessions = new List<SessionRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(ReadSession(reader));
        }

        return sessions;
    }

    public async Task<SessionRecord?> GetSessionAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, parameters, status, created_at, snapshot, parent_id FROM sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadSession(reader) : null;
    }

    /// <summary>
    /// Creates a session with its discovery, in one transaction: skipped files and unlistable folders
    /// get their final result at once (in that order), files to ingest are pending.
    /// </summary>
    public Task CreateSessionAsync(SessionRecord session, DiscoveryResult discovery, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction, ct) =>
        {
            await using (var insert = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO sessions(id, parent_id, created_at, parameters, status, snapshot) VALUES($id, $parent, $created, $parameters, $status, $snapshot)";
                insert.Parameters.AddWithValue("$id", session.Id);
                insert.Parameters.AddWithValue("$parent", (object?)session.ParentId ?? DBNull.Value);
                insert.Parameters.AddWithValue("$created", Timestamp(session.CreatedAt));
                insert.Parameters.AddWithValue("$parameters", session.ParametersJson);
                insert.Parameters.AddWithValue("$status", session.Status);
                insert.Parameters.AddWithValue("$snapshot", session.SnapshotJson);
                await insert.ExecuteNonQueryAsync(ct);
            }

            await using var file = connection.CreateCommand();
            file.Transaction = transaction;
            file.CommandText = """
                INSERT INTO session_files(session_id, ord, path, size, mtime, state, stage, reason, duration_ms, done_seq)
                VALUES($session, $ord, $path, $size, $mtime, $state, $stage, $reason, 0, $done)
                """;
            file.Parameters.AddWithValue("$session", session.Id);
            var pOrd = file.Parameters.Add("$ord", SqliteType.Integer);
            var pPath = file.Parameters.Add("$path", SqliteType.Text);
            var pSize = file.Parameters.Add("$size", SqliteType.Integer);
            var pMtime = file.Parameters.Add("$mtime", SqliteType.Integer);
            var pState = file.Parameters.Add("$state", SqliteType.Text);
            var pStage = file.Parameters.Add("$stage", SqliteType.Text);
            var pReason = file.Parameters.Add("$reason", SqliteType.Text);
            var pDone = file.Parameters.Add("$done", SqliteType.Integer);
            var ord = 0;
            var done = 0;
            async Task AddAsync(string path, long size, long mtime, string? state, string? reason)
            {
                pOrd.Value = ++ord;
                pPath.Value = Clean(path);
                pSize.Value = size;
                pMtime.Value = mtime;
                pState.Value = (object?)state ?? DBNull.Value;
                pStage.Value = state is null ? DBNull.Value : "discover";
                pReason.Value = (object?)Clean(reason) ?? DBNull.Value;
                pDone.Value = state is null ? DBNull.Value : ++done;
                await file.ExecuteNonQueryAsync(ct);
            }

            foreach (var skipped in discovery.Skipped)
            {
                await AddAsync(skipped.Path, skipped.Size, skipped.ModifiedAt.ToUnixTimeMilliseconds(), FileStates.Skipped, "unchanged since it was catalogued");
            }

            foreach (var problem in discovery.Problems)
            {
                await AddAsync(problem.Path, 0, 0, FileStates.Failed, problem.Message);
            }

            foreach (var pending in discovery.Files)
            {
                await AddAsync(pending.Path, pending.Size, pending.ModifiedAt.ToUnixTimeMilliseconds(), null, null);
            }
        }, cancellationToken);

    /// <summary>Files of a session that have no result yet, in discovery order.</summary>
    public async Task<IReadOnlyList<(long Ord, DiscoveredFile File)>> PendingFilesAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT ord, path, size, mtime FROM session_files WHERE session_id = $id AND state IS NULL ORDER BY ord";
        command.Parameters.AddWithValue("$id", sessionId);
        var pending = new List<(long, DiscoveredFile)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add((reader.GetInt64(0), new DiscoveredFile(reader.GetString(1), reader.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))));
        }

        return pending;
    }

    /// <summary>Opens a lookup for skip-existing checks; one read connection for the whole discovery.</summary>
    public KnownFiles OpenKnownFiles() => new(OpenRead());

    /// <summary>Stores a session's snapshot (and its status, which queries filter on).</summary>
    public Task SaveSnapshotAsync(ProgressSnapshot snapshot, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "UPDATE sessions SET status = $status, snapshot = $snapshot WHERE id = $id";
            command.Parameters.AddWithValue("$id", snapshot.SessionId);
            command.Parameters.AddWithValue("$status", snapshot.Status.ToWire());
            command.Parameters.AddWithValue("$snapshot", ProgressWire.ToText(snapshot));
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// Upserts one file (when <paramref name="media"/> is given) and records its result with what it added
    /// to the session's counters (<paramref name="tally"/>), in one transaction: the catalog and the
    /// session's results never disagree, and a crashed session's counters can be rebuilt from the results.
    /// </summary>
    public Task CommitFileAsync(string sessionId, long ord, MediaRecord? media, SessionFileResult result, FileTally tally, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction, ct) =>
        {
            if (media is not null)
            {
                await UpsertMediaAsync(connection, transaction, sessionId, media, ct);
            }

            var command = Statement(transaction, """
                UPDATE session_files SET state = $state, stage = $stage, reason = $reason, size = $size, duration_ms = $ms,
                    done_seq = (SELECT COALESCE(MAX(done_seq), 0) + 1 FROM session_files WHERE session_id = $session),
                    metadata = $metadata, keywords = $keywords, score = $score, warnings = $warnings
                WHERE session_id = $session AND ord = $ord
                """);
            command.Parameters.AddWithValue("$metadata", tally.Metadata ? 1 : 0);
            command.Parameters.AddWithValue("$keywords", tally.Keywords);
            command.Parameters.AddWithValue("$score", tally.Score ? 1 : 0);
            command.Parameters.AddWithValue("$warnings", tally.Warnings);
            command.Parameters.AddWithValue("$session", sessionId);
            command.Parameters.AddWithValue("$ord", ord);
            command.Parameters.AddWithValue("$state", result.State);
            command.Parameters.AddWithValue("$stage", result.Stage);
            command.Parameters.AddWithValue("$reason", (object?)Clean(result.Reason) ?? DBNull.Value);
            command.Parameters.AddWithValue("$size", result.Size);
            command.Parameters.AddWithValue("$ms", result.DurationMs);
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    /// <summary>Per-file results of a session, in processing order.</summary>
    public async Task<IReadOnlyList<SessionFileResult>> FileResultsAsync(string sessionId, string? state, int limit, CancellationToken cancellationToken) =>
        await QueryFileResultsAsync(sessionId, new FileResultFilter(state, null, 0, limit), cancellationToken).ToListAsync(cancellationToken);

    /// <summary>
    /// Streams per-file results after a cursor (the processing order, <see cref="SessionFileResult.Seq"/>),
    /// filtered by state and path text. Results are written in that order by the single writer, so a reader
    /// never sees a gap behind its cursor.
    /// </summary>
    public async IAsyncEnumerable<SessionFileResult> QueryFileResultsAsync(
        string sessionId, FileResultFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT path, state, stage, reason, size, duration_ms, done_seq FROM session_files
            WHERE session_id = $id AND done_seq > $after AND ($state IS NULL OR state = $state)
              AND ($like IS NULL OR path LIKE $like ESCAPE '\')
            ORDER BY done_seq LIMIT $limit
            """;
        command.Parameters.AddWithValue("$id", sessionId);
        command.Parameters.AddWithValue("$after", filter.After);
        command.Parameters.AddWithValue("$state", (object?)filter.State ?? DBNull.Value);
        command.Parameters.AddWithValue("$like", string.IsNullOrEmpty(filter.Text) ? DBNull.Value : "%" + EscapeLike(filter.Text) + "%");
        command.Parameters.AddWithValue("$limit", filter.Limit ?? -1);
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
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // Results from before the per-file counts were stored have NULLs there: a file with warnings counts one.
        command.CommandText = """
            SELECT
                COALESCE(SUM(state = 'committed'), 0),
                COALESCE(SUM(state = 'committed_with_warnings'), 0),
                COALESCE(SUM(state = 'failed' AND IFNULL(stage, '') <> 'discover'), 0),
                COALESCE(SUM(state = 'failed' AND stage = 'discover'), 0),
                COALESCE(SUM(metadata), 0),
                COALESCE(SUM(keywords), 0),
                COALESCE(SUM(score), 0),
                COALESCE(SUM(COALESCE(warnings, state = 'committed_with_warnings')), 0)
            FROM session_files WHERE session_id = $id AND state IS NOT NULL
            """;
        command.Parameters.AddWithValue("$id", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new FileResultTotals(
            reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3),
            reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7));
    }

    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction, ct) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM session_files WHERE session_id = $id; DELETE FROM sessions WHERE id = $id; DELETE FROM marks WHERE name = $mark;";
            command.Parameters.AddWithValue("$id", sessionId);
            command.Parameters.AddWithValue("$mark", ICounterMarks.SessionSeq(sessionId));
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// Reads a counter's mark (see <see cref="CounterLease"/>). Synchronous: the registry reads its version
    /// mark when it is built, which can be before <see cref="InitializeAsync"/>, so the table is made here too.
    /// </summary>
    public long ReadMark(string name)
    {
        long value = 0;
        WriteAsync(async (connection, transaction, ct) =>
        {
            await using var create = connection.CreateCommand();
            create.Transaction = transaction;
            create.CommandText = MarksTable;
            await create.ExecuteNonQueryAsync(ct);
            await using var read = connection.CreateCommand();
            read.Transaction = transaction;
            read.CommandText = "SELECT value FROM marks WHERE name = $name";
            read.Parameters.AddWithValue("$name", name);
            value = await read.ExecuteScalarAsync(ct) is long found ? found : 0;
        }, CancellationToken.None).GetAwaiter().GetResult();
        return value;
    }

    /// <summary>Raises a counter's mark, never lowers it; committed when it returns. Rare (once per block of values).</summary>
    public void WriteMark(string name, long value) =>
        WriteAsync(async (connection, transaction, ct) =>
        {
            var command = Statement(transaction, "INSERT INTO marks(name, value) VALUES($name, $value) ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)");
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$value", value);
            await command.ExecuteNonQueryAsync(ct);
        }, CancellationToken.None).GetAwaiter().GetResult();

    public async Task<MediaRecord?> GetMediaAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {MediaColumns}, (SELECT group_concat(keyword, char(31)) FROM media_keywords k WHERE k.media_id = m.id) FROM media m WHERE path = $path";
        command.Parameters.AddWithValue("$path", path);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadMedia(reader) : null;
    }

    /// <summary>Search by keyword, prompt text or file name; an empty query lists everything, newest first.</summary>
    public async Task<IReadOnlyList<MediaHit>> SearchAsync(string? query, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT m.id, m.path, m.kind, m.size, m.width, m.height, m.taken_at, m.duration_seconds, m.prompt, m.score, m.phash, m.ingested_at,
                   (SELECT group_concat(keyword, char(31)) FROM media_keywords k WHERE k.media_id = m.id)
            FROM media m
            WHERE $like IS NULL
               OR m.path LIKE $like ESCAPE '\'
               OR m.prompt LIKE $like ESCAPE '\'
               OR m.id IN (SELECT media_id FROM media_keywords WHERE keyword LIKE $like ESCAPE '\')
            ORDER BY m.ingested_at DESC, m.id DESC
            LIMIT $limit
            """;
        var trimmed = query?.Trim();
        command.Parameters.AddWithValue("$like", string.IsNullOrEmpty(trimmed) ? DBNull.Value : "%" + EscapeLike(trimmed) + "%");
        command.Parameters.AddWithValue("$limit", limit);
        var hits = new List<MediaHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new MediaHit(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                NullableInt(reader, 4), NullableInt(reader, 5), NullableDate(reader, 6),
                reader.IsDBNull(7) ? null : reader.GetDouble(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                SplitList(reader, 12), reader.IsDBNull(9) ? null : reader.GetDouble(9),
                reader.IsDBNull(10) ? null : unchecked((ulong)reader.GetInt64(10)).ToString("x16", CultureInfo.InvariantCulture),
                NullableDate(reader, 11) ?? DateTimeOffset.UnixEpoch));
        }

        return hits;
    }

    /// <summary>How many catalog rows sit directly in each of the given root-relative folders.</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountByDirectoryAsync(IEnumerable<string> directories, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM media WHERE dir = $dir";
        var dir = command.Parameters.Add("$dir", SqliteType.Text);
        foreach (var directory in directories)
        {
            dir.Value = directory;
            counts[directory] = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        return counts;
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }

        _writeLock.Dispose();
    }

    /// <summary>Strips NUL and other control characters (keeping tab and newlines), which SQLite and browsers mishandle.</summary>
    public static string? Clean(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var firstBad = text.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        if (firstBad < 0 && !text.Contains('\u007f'))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (!char.IsControl(c) || c is '\t' or '\n' or '\r')
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private async Task WriteAsync(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _writer ??= await OpenWriterAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await _writer.BeginTransactionAsync(cancellationToken);
            await work(_writer, transaction, cancellationToken);
            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (SqliteException)
        {
            // A broken writer (disk full, file replaced) is reopened on the next write.
            foreach (var statement in _statements.Values)
            {
                await statement.DisposeAsync();
            }

            _statements.Clear();
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
                _writer = null;
            }

            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// A writer statement, prepared once and reused for every file (parsing SQL per file costs more than
    /// running it). Only the holder of the write lock calls this.
    /// </summary>
    private SqliteCommand Statement(SqliteTransaction transaction, string sql)
    {
        if (!_statements.TryGetValue(sql, out var command))
        {
            command = _writer!.CreateCommand();
            command.CommandText = sql;
            _statements[sql] = command;
        }

        command.Transaction = transaction;
        command.Parameters.Clear();
        return command;
    }

    private async Task<SqliteConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private async Task<SqliteConnection> OpenReadAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private SqliteConnection OpenRead()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private async Task UpsertMediaAsync(SqliteConnection connection, SqliteTransaction transaction, string sessionId, MediaRecord media, CancellationToken cancellationToken)
    {
        long id;
        {
            var upsert = Statement(transaction, """
                INSERT INTO media(path, dir, name, size, mtime, kind, sha256, width, height, taken_at, duration_seconds,
                    prompt, negative_prompt, steps, sampler, cfg_scale, seed, model, comfy_prompt, comfy_workflow, loras,
                    score, phash, ingested_at, session_id)
                VALUES($path, $dir, $name, $size, $mtime, $kind, $sha256, $width, $height, $taken, $duration,
                    $prompt, $negative, $steps, $sampler, $cfg, $seed, $model, $comfyPrompt, $comfyWorkflow, $loras,
                    $score, $phash, $ingested, $session)
                ON CONFLICT(path) DO UPDATE SET
                    size = excluded.size, mtime = excluded.mtime, kind = excluded.kind, sha256 = excluded.sha256,
                    width = excluded.width, height = excluded.height, taken_at = excluded.taken_at,
                    duration_seconds = excluded.duration_seconds, prompt = excluded.prompt,
                    negative_prompt = excluded.negative_prompt, steps = excluded.steps, sampler = excluded.sampler,
                    cfg_scale = excluded.cfg_scale, seed = excluded.seed, model = excluded.model,
                    comfy_prompt = excluded.comfy_prompt, comfy_workflow = excluded.comfy_workflow, loras = excluded.loras,
                    score = excluded.score, phash = excluded.phash, ingested_at = excluded.ingested_at,
                    session_id = excluded.session_id
                RETURNING id
                """);
            var p = upsert.Parameters;
            var path = Clean(media.Path)!;
            var slash = path.LastIndexOf('/');
            p.AddWithValue("$path", path);
            p.AddWithValue("$dir", slash < 0 ? "" : path[..slash]);
            p.AddWithValue("$name", slash < 0 ? path : path[(slash + 1)..]);
            p.AddWithValue("$size", media.Size);
            p.AddWithValue("$mtime", media.ModifiedAt.ToUnixTimeMilliseconds());
            p.AddWithValue("$kind", media.Kind);
            p.AddWithValue("$sha256", media.Sha256);
            p.AddWithValue("$width", (object?)media.Width ?? DBNull.Value);
            p.AddWithValue("$height", (object?)media.Height ?? DBNull.Value);
            p.AddWithValue("$taken", media.TakenAt is { } taken ? Timestamp(taken) : DBNull.Value);
            p.AddWithValue("$duration", (object?)media.DurationSeconds ?? DBNull.Value);
            p.AddWithValue("$prompt", (object?)Clean(media.Prompt) ?? DBNull.Value);
            p.AddWithValue("$negative", (object?)Clean(media.NegativePrompt) ?? DBNull.Value);
            p.AddWithValue("$steps", (object?)media.Steps ?? DBNull.Value);
            p.AddWithValue("$sampler", (object?)Clean(media.Sampler) ?? DBNull.Value);
            p.AddWithValue("$cfg", (object?)media.CfgScale ?? DBNull.Value);
            p.AddWithValue("$seed", (object?)media.Seed ?? DBNull.Value);
            p.AddWithValue("$model", (object?)Clean(media.Model) ?? DBNull.Value);
            p.AddWithValue("$comfyPrompt", (object?)Clean(media.ComfyPrompt) ?? DBNull.Value);
            p.AddWithValue("$comfyWorkflow", (object?)Clean(media.ComfyWorkflow) ?? DBNull.Value);
            p.AddWithValue("$loras", media.Loras is { Count: > 0 } loras ? JsonSerializer.Serialize(loras.Select(Clean)) : DBNull.Value);
            p.AddWithValue("$score", (object?)media.Score ?? DBNull.Value);
            p.AddWithValue("$phash", (object?)media.PerceptualHash ?? DBNull.Value);
            p.AddWithValue("$ingested", Timestamp(media.IngestedAt ?? _time.GetUtcNow()));
            p.AddWithValue("$session", sessionId);
            id = Convert.ToInt64(await upsert.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        var clear = Statement(transaction, "DELETE FROM media_keywords WHERE media_id = $id");
        clear.Parameters.AddWithValue("$id", id);
        await clear.ExecuteNonQueryAsync(cancellationToken);
        if (media.Keywords is not { Count: > 0 })
        {
            return;
        }

        var keywords = Statement(transaction, "INSERT OR IGNORE INTO media_keywords(media_id, keyword) VALUES($id, $keyword)");
        keywords.Parameters.AddWithValue("$id", id);
        var keyword = keywords.Parameters.Add("$keyword", SqliteType.Text);
        foreach (var word in media.Keywords)
        {
            keyword.Value = Clean(word);
            await keywords.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private const string MediaColumns = """
        m.path, m.size, m.mtime, m.kind, m.sha256, m.width, m.height, m.taken_at, m.duration_seconds, m.prompt, m.negative_prompt,
        m.steps, m.sampler, m.cfg_scale, m.seed, m.model, m.comfy_prompt, m.comfy_workflow, m.loras, m.score, m.phash, m.ingested_at, m.session_id
        """;

    private static MediaRecord ReadMedia(SqliteDataReader r) => new(
        r.GetString(0), r.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), r.GetString(3), r.GetString(4),
        NullableInt(r, 5), NullableInt(r, 6), NullableDate(r, 7), r.IsDBNull(8) ? null : r.GetDouble(8),
        NullableString(r, 9), NullableString(r, 10), NullableInt(r, 11), NullableString(r, 12),
        r.IsDBNull(13) ? null : r.GetDouble(13), r.IsDBNull(14) ? null : r.GetInt64(14), NullableString(r, 15),
        NullableString(r, 16), NullableString(r, 17), SplitList(r, 23),
        r.IsDBNull(18) ? null : JsonSerializer.Deserialize<List<string>>(r.GetString(18)),
        r.IsDBNull(19) ? null : r.GetDouble(19), r.IsDBNull(20) ? null : r.GetInt64(20), NullableDate(r, 21), NullableString(r, 22));

    private static SessionRecord ReadSession(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), NullableDate(r, 3) ?? DateTimeOffset.UnixEpoch, r.GetString(4), NullableString(r, 5));

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static int? NullableInt(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);

    private static DateTimeOffset? NullableDate(SqliteDataReader r, int i) =>
        r.IsDBNull(i) ? null : DateTimeOffset.Parse(r.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static List<string> SplitList(SqliteDataReader r, int i) =>
        r.IsDBNull(i) ? [] : [.. r.GetString(i).Split(ListSeparator, StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];

    private static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string EscapeLike(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS media (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            dir TEXT NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime INTEGER NOT NULL,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            width INTEGER, height INTEGER, taken_at TEXT, duration_seconds REAL,
            prompt TEXT, negative_prompt TEXT, steps INTEGER, sampler TEXT, cfg_scale REAL, seed INTEGER, model TEXT,
            comfy_prompt TEXT, comfy_workflow TEXT, loras TEXT, score REAL, phash INTEGER,
            ingested_at TEXT NOT NULL,
            session_id TEXT);
        CREATE INDEX IF NOT EXISTS media_dir ON media(dir);
        CREATE INDEX IF NOT EXISTS media_ingested ON media(ingested_at DESC, id DESC);
        CREATE TABLE IF NOT EXISTS media_keywords (
            media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            keyword TEXT NOT NULL,
            PRIMARY KEY (media_id, keyword)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS media_keywords_keyword ON media_keywords(keyword);
        CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY,
            parent_id TEXT,
            created_at TEXT NOT NULL,
            parameters TEXT NOT NULL,
            status TEXT NOT NULL,
            snapshot TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS sessions_created ON sessions(created_at DESC);
        CREATE TABLE IF NOT EXISTS session_files (
            session_id TEXT NOT NULL,
            ord INTEGER NOT NULL,
            path TEXT NOT NULL,
            size INTEGER,
            mtime INTEGER,
            state TEXT,
            stage TEXT,
            reason TEXT,
            duration_ms INTEGER,
            done_seq INTEGER,
            metadata INTEGER, keywords INTEGER, score INTEGER, warnings INTEGER,
            PRIMARY KEY (session_id, ord)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS session_files_done ON session_files(session_id, done_seq);
        """ + MarksTable;

    private const string MarksTable = """
        CREATE TABLE IF NOT EXISTS marks (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL) WITHOUT ROWID;
        """;
}

/// <summary>A prepared "is this file already catalogued unchanged?" lookup over one connection.</summary>
public sealed class KnownFiles : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _command;
    private readonly SqliteParameter _path;

    internal KnownFiles(SqliteConnection connection)
    {
        _connection = connection;
        _command = connection.CreateCommand();
        _command.CommandText = "SELECT size, mtime FROM media WHERE path = $path";
        _path = _command.Parameters.Add("$path", SqliteType.Text);
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
