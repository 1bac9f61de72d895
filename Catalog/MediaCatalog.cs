using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace IngestLite.Catalog;

/// <summary>The catalogued media: lookups, search, counts per folder, and the skip-existing check.</summary>
public interface IMediaCatalog
{
    Task<MediaRecord?> GetMediaAsync(string path, CancellationToken cancellationToken);

    Task<IReadOnlyList<MediaHit>> SearchAsync(string? query, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, int>> CountByDirectoryAsync(IEnumerable<string> directories, CancellationToken cancellationToken);

    /// <summary>Opens a lookup for skip-existing checks; one read connection for the whole discovery.</summary>
    KnownFiles OpenKnownFiles();
}

/// <summary><see cref="IMediaCatalog"/> on SQLite; its rows are written by <see cref="SessionStore.CommitFileAsync"/>.</summary>
public sealed class MediaCatalog(CatalogDatabase database, TimeProvider time) : IMediaCatalog
{
    public async Task<MediaRecord?> GetMediaAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Sql.MediaColumns}, (SELECT group_concat(keyword, char(31)) FROM media_keywords k WHERE k.media_id = m.id) FROM media m WHERE path = $path";
        command.Parameters.AddWithValue("$path", path);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Sql.ReadMedia(reader) : null;
    }

    /// <summary>Search by keyword, prompt text or file name; an empty query lists everything, newest first.</summary>
    public async Task<IReadOnlyList<MediaHit>> SearchAsync(string? query, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
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
        command.Parameters.AddWithValue("$like", string.IsNullOrEmpty(trimmed) ? DBNull.Value : "%" + Sql.EscapeLike(trimmed) + "%");
        command.Parameters.AddWithValue("$limit", limit);
        var hits = new List<MediaHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new MediaHit(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                Sql.NullableInt(reader, 4), Sql.NullableInt(reader, 5), Sql.NullableDate(reader, 6),
                reader.IsDBNull(7) ? null : reader.GetDouble(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                Sql.SplitList(reader, 12), reader.IsDBNull(9) ? null : reader.GetDouble(9),
                reader.IsDBNull(10) ? null : unchecked((ulong)reader.GetInt64(10)).ToString("x16", CultureInfo.InvariantCulture),
                Sql.NullableDate(reader, 11) ?? DateTimeOffset.UnixEpoch));
        }

        return hits;
    }

    /// <summary>How many catalog rows sit directly in each of the given root-relative folders.</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountByDirectoryAsync(IEnumerable<string> directories, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var connection = await database.OpenReadAsync(cancellationToken);
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

    public KnownFiles OpenKnownFiles() => new(database.OpenRead());

    /// <summary>Inserts or updates one file's row and keywords, inside a transaction of <see cref="CatalogDatabase.WriteAsync"/>.</summary>
    internal async Task UpsertAsync(SqliteTransaction transaction, string sessionId, MediaRecord media, CancellationToken cancellationToken)
    {
        long id;
        {
            var upsert = database.Statement(transaction, """
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
            var path = CatalogText.Clean(media.Path)!;
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
            p.AddWithValue("$taken", media.TakenAt is { } taken ? Sql.Timestamp(taken) : DBNull.Value);
            p.AddWithValue("$duration", (object?)media.DurationSeconds ?? DBNull.Value);
            p.AddWithValue("$prompt", (object?)CatalogText.Clean(media.Prompt) ?? DBNull.Value);
            p.AddWithValue("$negative", (object?)CatalogText.Clean(media.NegativePrompt) ?? DBNull.Value);
            p.AddWithValue("$steps", (object?)media.Steps ?? DBNull.Value);
            p.AddWithValue("$sampler", (object?)CatalogText.Clean(media.Sampler) ?? DBNull.Value);
            p.AddWithValue("$cfg", (object?)media.CfgScale ?? DBNull.Value);
            p.AddWithValue("$seed", (object?)media.Seed ?? DBNull.Value);
            p.AddWithValue("$model", (object?)CatalogText.Clean(media.Model) ?? DBNull.Value);
            p.AddWithValue("$comfyPrompt", (object?)CatalogText.Clean(media.ComfyPrompt) ?? DBNull.Value);
            p.AddWithValue("$comfyWorkflow", (object?)CatalogText.Clean(media.ComfyWorkflow) ?? DBNull.Value);
            p.AddWithValue("$loras", media.Loras is { Count: > 0 } loras ? JsonSerializer.Serialize(loras.Select(CatalogText.Clean)) : DBNull.Value);
            p.AddWithValue("$score", (object?)media.Score ?? DBNull.Value);
            p.AddWithValue("$phash", (object?)media.PerceptualHash ?? DBNull.Value);
            p.AddWithValue("$ingested", Sql.Timestamp(media.IngestedAt ?? time.GetUtcNow()));
            p.AddWithValue("$session", sessionId);
            id = Convert.ToInt64(await upsert.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        var clear = database.Statement(transaction, "DELETE FROM media_keywords WHERE media_id = $id");
        clear.Parameters.AddWithValue("$id", id);
        await clear.ExecuteNonQueryAsync(cancellationToken);
        if (media.Keywords is not { Count: > 0 })
        {
            return;
        }

        var keywords = database.Statement(transaction, "INSERT OR IGNORE INTO media_keywords(media_id, keyword) VALUES($id, $keyword)");
        keywords.Parameters.AddWithValue("$id", id);
        var keyword = keywords.Parameters.Add("$keyword", SqliteType.Text);
        foreach (var word in media.Keywords)
        {
            keyword.Value = CatalogText.Clean(word);
            await keywords.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
