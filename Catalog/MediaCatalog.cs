using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace IngestLite.Catalog;

/// <summary>The catalogued media: lookups, search, counts per folder, and the skip-existing check.</summary>
public interface IMediaCatalog
{
    Task<MediaRecord?> GetMediaAsync(string path, CancellationToken cancellationToken);

    Task<MediaRecord?> GetMediaAsync(long id, CancellationToken cancellationToken);

    /// <summary>Files matching <paramref name="filter"/>, in <paramref name="sort"/> order, a page at a time.</summary>
    Task<IReadOnlyList<MediaHit>> SearchAsync(MediaFilter filter, MediaSort sort, int limit, int offset, CancellationToken cancellationToken);

    /// <summary>The <paramref name="top"/> values of each facet, with counts, among the files matching <paramref name="filter"/>.</summary>
    Task<MediaFacets> FacetsAsync(MediaFilter filter, int top, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, int>> CountByDirectoryAsync(IEnumerable<string> directories, CancellationToken cancellationToken);

    /// <summary>Marks files (and files under folders) gone from disk as missing; they keep their rows until they return.</summary>
    Task<int> MarkMissingAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken);

    /// <summary>The catalogued files of a folder that are not marked missing.</summary>
    Task<IReadOnlyList<string>> PresentPathsAsync(string folder, bool recursive, CancellationToken cancellationToken);

    /// <summary>A file or folder renamed: its rows take the new path and keep everything else.</summary>
    Task<int> MoveAsync(string from, string to, CancellationToken cancellationToken);

    /// <summary>Opens a lookup for skip-existing checks; one read connection for the whole discovery.</summary>
    KnownFiles OpenKnownFiles();

    /// <summary>Catalogued files after <paramref name="afterId"/> by id, a page at a time (for jobs that go over the whole catalog).</summary>
    Task<IReadOnlyList<(long Id, MediaRecord Record)>> PageAsync(long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Rewrites a catalogued file's row (its keywords, LoRAs and full-text entry too), keeping its session and ingest time.</summary>
    Task ReplaceAsync(MediaRecord record, CancellationToken cancellationToken);
}

/// <summary><see cref="IMediaCatalog"/> on the catalog's database; its rows are written by <see cref="SessionStore.CommitFileAsync"/>.</summary>
public sealed class MediaCatalog(CatalogDatabase database, TimeProvider time) : IMediaCatalog
{
    /// <summary>Facet values and sort keys in memory (see <see cref="CatalogColumns"/>); kept current by <see cref="Committed"/>.</summary>
    public CatalogColumns Columns { get; } = new(database);

    /// <summary>Tells the in-memory indexes about a row once its transaction committed.</summary>
    internal void Committed(long id, MediaRecord record) => Columns.Set(id, record);

    private readonly CatalogDialect _dialect = database.Dialect;

    /// <summary>A whole row as <see cref="Sql.ReadMedia"/> reads it: the media columns, then the keywords.</summary>
    private string SelectMedia => $"SELECT {Sql.MediaColumns}, {Keywords}";

    /// <summary>A file's keywords, U+001F between them.</summary>
    private string Keywords => $"(SELECT {_dialect.List("keyword")} FROM media_keywords k WHERE k.media_id = m.id)";

    public Task<MediaRecord?> GetMediaAsync(string path, CancellationToken cancellationToken) => ReadOneAsync("path = @key", path, cancellationToken);

    public Task<MediaRecord?> GetMediaAsync(long id, CancellationToken cancellationToken) => ReadOneAsync("id = @key", id, cancellationToken);

    private async Task<MediaRecord?> ReadOneAsync(string where, object key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"{SelectMedia} FROM media m WHERE {where}";
        command.Set("@key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Sql.ReadMedia(reader) : null;
    }

    public async Task<IReadOnlyList<MediaHit>> SearchAsync(MediaFilter filter, MediaSort sort, int limit, int offset, CancellationToken cancellationToken)
    {
        // A filtered search by date or score: SQL lists the matching ids, the page is chosen in memory by sort key,
        // and only its rows are read. (Unfiltered, the sort's index gives the page at once; by name, SQL sorts.)
        if (!filter.IsEmpty && filter.Ids is null && sort != MediaSort.Name)
        {
            var page = (CatalogColumns.CanFilter(filter)
                ? await Task.Run(() => Columns.TopMatching(filter, sort, offset + limit, _dialect.TextQuery(filter.Text) is { } match ? TextMatches(match, cancellationToken) : null), cancellationToken)
                : Columns.Top(await MatchingIdsAsync(filter, cancellationToken), sort, offset + limit)).Skip(offset).ToList();
            var rows = (await ReadHitsAsync(new MediaFilter { Ids = page }, sort, page.Count, 0, cancellationToken)).ToDictionary(h => h.Id);
            return [.. page.Where(rows.ContainsKey).Select(id => rows[id])];
        }

        return await ReadHitsAsync(filter, sort, limit, offset, cancellationToken);
    }

    private async Task<IReadOnlyList<MediaHit>> ReadHitsAsync(MediaFilter filter, MediaSort sort, int limit, int offset, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = MediaFilterSql.Where(filter, command, _dialect);
        command.CommandText = $"""
            SELECT m.id, m.path, m.kind, m.size, m.width, m.height, m.taken_at, m.duration_seconds, m.prompt, m.score, m.phash, m.ingested_at,
                   {Keywords},
                   m.mtime, m.negative_prompt, m.steps, m.sampler, m.scheduler, m.cfg_scale, m.seed, m.model, m.model_hash, m.vae,
                   m.denoise, m.clip_skip, m.hires_upscale, m.hires_upscaler, m.generator, m.generator_version, m.samplers,
                   (SELECT {_dialect.List($"name || {_dialect.Char(30)} || coalesce(CAST(weight AS TEXT), '')")} FROM media_loras l WHERE l.media_id = m.id),
                   m.sha256, m.missing_at
            FROM media m
            WHERE {where}
            ORDER BY {MediaFilterSql.OrderBy(sort)}
            LIMIT @limit OFFSET @offset
            """;
        command.Set("@limit", limit);
        command.Set("@offset", offset);
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
                Sql.NullableDate(reader, 11) ?? DateTimeOffset.UnixEpoch,
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(13)),
                reader.GetString(31),
                ReadGeneration(reader, 14),
                Sql.NullableDate(reader, 32)));
        }

        return hits;
    }

    /// <summary>The generation fields read from column <paramref name="first"/> on (see <see cref="SearchAsync"/>); null when none was recorded.</summary>
    private static GenerationFields? ReadGeneration(DbDataReader r, int first)
    {
        var loras = r.IsDBNull(first + 16) ? [] : r.GetString(first + 16).Split('\u001f').Select(l =>
        {
            var parts = l.Split('\u001e');
            return new LoraUse(parts[0], parts.Length > 1 && double.TryParse(parts[1], CultureInfo.InvariantCulture, out var w) ? w : null);
        }).OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
        string? Text(int i) => r.IsDBNull(first + i) ? null : r.GetString(first + i);
        int? Int(int i) => r.IsDBNull(first + i) ? null : r.GetInt32(first + i);
        double? Real(int i) => r.IsDBNull(first + i) ? null : r.GetDouble(first + i);
        var fields = new GenerationFields(Text(0), Int(1), Text(2), Text(3), Real(4), r.IsDBNull(first + 5) ? null : r.GetInt64(first + 5), Text(6), Text(7), Text(8),
            Real(9), Int(10), Real(11), Text(12), Text(13), Text(14), Int(15), loras);
        return loras.Count == 0 && fields with { Loras = Empty.Loras } == Empty ? null : fields;
    }

    private static readonly GenerationFields Empty = new(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, []);

    /// <summary>
    /// The ids of the files a filter keeps. The text is the full-text index's (its rowids alone); every other part
    /// is tested on the columns in memory, unless it names a folder or ids, which SQL tests with the rest.
    /// </summary>
    private async Task<List<long>> MatchingIdsAsync(MediaFilter filter, CancellationToken cancellationToken)
    {
        var match = _dialect.TextQuery(filter.Text);
        if (CatalogColumns.CanFilter(filter))
        {
            var candidates = match is null ? null : await ListIdsAsync(_dialect.TextMatches("@match"), ("@match", match), cancellationToken);
            return filter.OnlyText && candidates is not null ? candidates : await Task.Run(() => Columns.Filter(filter, candidates), cancellationToken);
        }

        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT m.id FROM media m WHERE {MediaFilterSql.Where(filter, command, _dialect)}";
        return await ReadIdsAsync(command, cancellationToken);
    }

    /// <summary>The full-text matches, highest id first, in chunks read as they are asked for (a search may stop early).</summary>
    private IEnumerable<IReadOnlyList<long>> TextMatches(string match, CancellationToken cancellationToken)
    {
        using var connection = database.OpenRead();
        using var command = connection.CreateCommand();
        command.CommandText = $"{_dialect.TextMatches("@match")} ORDER BY rowid DESC";
        command.Set("@match", match);
        using var reader = command.ExecuteReader();
        var chunk = new List<long>(1024);
        while (reader.Read())
        {
            chunk.Add(reader.GetInt64(0));
            if (chunk.Count == chunk.Capacity)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return chunk;
                // The first chunks are small, so a page found early costs little; later ones larger, so a long pass costs few locks.
                chunk = new List<long>(Math.Min(chunk.Capacity * 4, 65_536));
            }
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private async Task<List<long>> ListIdsAsync(string sql, (string Name, object Value) parameter, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Set(parameter.Name, parameter.Value);
        return await ReadIdsAsync(command, cancellationToken);
    }

    /// <summary>
    /// Reads one column of ids. Synchronously: Microsoft.Data.Sqlite's async reads run synchronously anyway, and a
    /// list can hold hundreds of thousands of ids (a common word's matches, for the facets).
    /// </summary>
    private static Task<List<long>> ReadIdsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
            if ((ids.Count & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return Task.FromResult(ids);
    }

    /// <summary>
    /// Facets: without a filter, the in-memory totals; with one, SQL lists the matching ids (from the full-text
    /// index alone when the text is the only filter) and their codes are counted in memory.
    /// </summary>
    public async Task<MediaFacets> FacetsAsync(MediaFilter filter, int top, CancellationToken cancellationToken)
    {
        if (filter.IsEmpty || (filter.OnlyText && _dialect.TextQuery(filter.Text) is null))
        {
            return await Task.Run(() => Columns.Totals(top), cancellationToken);
        }

        var ids = await MatchingIdsAsync(filter, cancellationToken);
        return Columns.CountOf(ids, top);
    }

    /// <summary>How many catalog rows sit directly in each of the given root-relative folders.</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountByDirectoryAsync(IEnumerable<string> directories, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM media WHERE dir = @dir";
        var dir = command.Param("@dir", DbType.String);
        foreach (var directory in directories)
        {
            dir.Value = directory;
            counts[directory] = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        return counts;
    }

    public KnownFiles OpenKnownFiles() => new(database.OpenRead());

    public async Task<IReadOnlyList<(long Id, MediaRecord Record)>> PageAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"{SelectMedia}, m.id FROM media m WHERE m.id > @after ORDER BY m.id LIMIT @limit";
        command.Set("@after", afterId);
        command.Set("@limit", limit);
        var page = new List<(long, MediaRecord)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add((reader.GetInt64(24), Sql.ReadMedia(reader)));
        }

        return page;
    }

    /// <summary>
    /// Marks catalogued files gone from disk as missing (kept, with their scores, until they return): each of
    /// <paramref name="paths"/>, and every file under it when it was a folder. Returns how many were marked.
    /// </summary>
    public async Task<int> MarkMissingAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var marked = 0;
        await database.WriteAsync(async (connection, transaction, ct) =>
        {
            var update = database.Statement(transaction, """
                UPDATE media SET missing_at = @at
                WHERE missing_at IS NULL AND (path = @path OR (path > @path || '/' AND path < @path || '0'))
                """);
            update.Set("@at", Sql.Timestamp(time.GetUtcNow()));
            var p = update.Param("@path", DbType.String);
            foreach (var path in paths)
            {
                p.Value = path;
                marked += await update.ExecuteNonQueryAsync(ct);
            }
        }, cancellationToken);
        return marked;
    }

    /// <summary>
    /// The catalogued, not missing, files in <paramref name="folder"/> (and below it when <paramref name="recursive"/>).
    /// "Below" is a range on the indexed column ('0' is the character after '/'), so a reconcile reads its folder, not the catalog.
    /// </summary>
    public async Task<IReadOnlyList<string>> PresentPathsAsync(string folder, bool recursive, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenReadAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = recursive && folder.Length > 0
            ? "SELECT path FROM media WHERE missing_at IS NULL AND (dir = @dir OR (dir > @dir || '/' AND dir < @dir || '0'))"
            : recursive ? "SELECT path FROM media WHERE missing_at IS NULL" : "SELECT path FROM media WHERE missing_at IS NULL AND dir = @dir";
        if (folder.Length > 0 || !recursive)
        {
            command.Set("@dir", folder);
        }

        var paths = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            paths.Add(reader.GetString(0));
        }

        return paths;
    }

    /// <summary>
    /// A file or folder renamed or moved: the rows at <paramref name="from"/> (and under it) take the new path and keep
    /// everything else (id, score, parameters); a row already at a new path is left alone. Returns how many moved.
    /// </summary>
    public async Task<int> MoveAsync(string from, string to, CancellationToken cancellationToken)
    {
        var moved = new List<long>();
        await database.WriteAsync(async (connection, transaction, ct) =>
        {
            var select = database.Statement(transaction, $"""
                SELECT m.id, m.path, m.prompt, m.negative_prompt, {Keywords}
                FROM media m WHERE m.path = @from OR (m.path > @from || '/' AND m.path < @from || '0')
                """);
            select.Set("@from", from);
            var rows = new List<(long Id, string Path, string? Prompt, string? Negative, string? Keywords)>();
            await using (var reader = await select.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var keywords = Sql.SplitList(reader, 4);
                    rows.Add((reader.GetInt64(0), reader.GetString(1), Sql.NullableString(reader, 2), Sql.NullableString(reader, 3),
                        keywords.Count == 0 ? null : string.Join(' ', keywords)));
                }
            }

            var update = database.Statement(transaction, """
                UPDATE media SET path = @path, dir = @dir, name = @name, missing_at = NULL WHERE id = @id AND NOT EXISTS (SELECT 1 FROM media WHERE path = @path)
                """);
            var unindex = database.Statement(transaction, "DELETE FROM media_fts WHERE rowid = @id");
            var (pId, pPath, pDir, pName) = (update.Param("@id", DbType.Int64), update.Param("@path", DbType.String),
                update.Param("@dir", DbType.String), update.Param("@name", DbType.String));
            var fId = unindex.Param("@id", DbType.Int64);
            foreach (var (id, old, prompt, negative, keywords) in rows)
            {
                var path = to + old[from.Length..];
                var slash = path.LastIndexOf('/');
                (pId.Value, pPath.Value, pDir.Value, pName.Value) = (id, path, slash < 0 ? "" : path[..slash], slash < 0 ? path : path[(slash + 1)..]);
                if (await update.ExecuteNonQueryAsync(ct) > 0)
                {
                    fId.Value = id;
                    await unindex.ExecuteNonQueryAsync(ct);
                    await IndexTextAsync(transaction, id, prompt, negative, path, keywords, ct);
                    moved.Add(id);
                }
            }
        }, cancellationToken);
        return moved.Count;
    }

    public async Task ReplaceAsync(MediaRecord record, CancellationToken cancellationToken)
    {
        var id = 0L;
        await database.WriteAsync(async (connection, transaction, ct) => id = await UpsertAsync(transaction, record.SessionId ?? "", record, ct), cancellationToken);
        Committed(id, record);
    }

    /// <summary>
    /// Inserts or updates one file's row, keywords, LoRAs and full-text entry, inside a transaction of
    /// <see cref="CatalogDatabase.WriteAsync"/>; returns its id (for <see cref="PerceptualIndex.Set"/> once committed).
    /// </summary>
    internal async Task<long> UpsertAsync(DbTransaction transaction, string sessionId, MediaRecord media, CancellationToken cancellationToken)
    {
        long id;
        var path = CatalogText.Clean(media.Path)!;
        var slash = path.LastIndexOf('/');
        var (dir, fileName) = (slash < 0 ? "" : path[..slash], slash < 0 ? path : path[(slash + 1)..]);
        {
            // A new path whose content the catalog holds as missing is that file moved: its row (id, score) moves with it.
            var move = database.Statement(transaction, """
                UPDATE media SET path = @path, dir = @dir, name = @name
                WHERE id = (SELECT id FROM media WHERE sha256 = @sha256 AND missing_at IS NOT NULL ORDER BY id LIMIT 1)
                  AND NOT EXISTS (SELECT 1 FROM media WHERE path = @path)
                """);
            move.Set("@path", path);
            move.Set("@dir", dir);
            move.Set("@name", fileName);
            move.Set("@sha256", media.Sha256);
            await move.ExecuteNonQueryAsync(cancellationToken);
        }

        {
            // An update of the row at this path, else an insert. (Not INSERT … ON CONFLICT DO UPDATE: PostgreSQL would draw
            // a new id from the identity for every update, and the in-memory columns are arrays indexed by id.)
            var update = database.Statement(transaction, """
                UPDATE media SET
                    dir = @dir, name = @name, size = @size, mtime = @mtime, kind = @kind, sha256 = @sha256, width = @width, height = @height, taken_at = @taken,
                    duration_seconds = @duration, prompt = @prompt, negative_prompt = @negative, steps = @steps, sampler = @sampler,
                    cfg_scale = @cfg, seed = @seed, model = @model, comfy_prompt = @comfyPrompt, comfy_workflow = @comfyWorkflow,
                    loras = @loras, score = CASE WHEN missing_at IS NOT NULL THEN coalesce(@score, score) ELSE @score END,
                    phash = @phash, ingested_at = @ingested, missing_at = NULL, session_id = @session, scheduler = @scheduler,
                    model_hash = @modelHash, vae = @vae, denoise = @denoise, clip_skip = @clipSkip, hires_upscale = @hiresUpscale,
                    hires_upscaler = @hiresUpscaler, generator = @generator, generator_version = @generatorVersion, samplers = @samplers
                WHERE path = @path
                RETURNING id
                """);
            Bind(update);
            var updated = await update.ExecuteScalarAsync(cancellationToken);
            if (updated is null)
            {
                var insert = database.Statement(transaction, """
                    INSERT INTO media(path, dir, name, size, mtime, kind, sha256, width, height, taken_at, duration_seconds,
                        prompt, negative_prompt, steps, sampler, cfg_scale, seed, model, comfy_prompt, comfy_workflow, loras,
                        score, phash, ingested_at, session_id, scheduler, model_hash, vae, denoise, clip_skip, hires_upscale,
                        hires_upscaler, generator, generator_version, samplers)
                    VALUES(@path, @dir, @name, @size, @mtime, @kind, @sha256, @width, @height, @taken, @duration,
                        @prompt, @negative, @steps, @sampler, @cfg, @seed, @model, @comfyPrompt, @comfyWorkflow, @loras,
                        @score, @phash, @ingested, @session, @scheduler, @modelHash, @vae, @denoise, @clipSkip, @hiresUpscale,
                        @hiresUpscaler, @generator, @generatorVersion, @samplers)
                    RETURNING id
                    """);
                Bind(insert);
                updated = await insert.ExecuteScalarAsync(cancellationToken);
            }

            id = Convert.ToInt64(updated, CultureInfo.InvariantCulture);
        }

        // Both statements take the same values.
        void Bind(DbCommand command)
        {
            command.Set("@path", path);
            command.Set("@dir", dir);
            command.Set("@name", fileName);
            command.Set("@size", media.Size);
            command.Set("@mtime", media.ModifiedAt.ToUnixTimeMilliseconds());
            command.Set("@kind", media.Kind);
            command.Set("@sha256", media.Sha256);
            command.Set("@width", media.Width);
            command.Set("@height", media.Height);
            command.Set("@taken", media.TakenAt is { } taken ? Sql.Timestamp(taken) : null);
            command.Set("@duration", media.DurationSeconds);
            command.Set("@prompt", CatalogText.Clean(media.Prompt));
            command.Set("@negative", CatalogText.Clean(media.NegativePrompt));
            command.Set("@steps", media.Steps);
            command.Set("@sampler", CatalogText.Clean(media.Sampler));
            command.Set("@cfg", media.CfgScale);
            command.Set("@seed", media.Seed);
            command.Set("@model", CatalogText.Clean(media.Model));
            command.Set("@comfyPrompt", CatalogText.Clean(media.ComfyPrompt));
            command.Set("@comfyWorkflow", CatalogText.Clean(media.ComfyWorkflow));
            command.Set("@loras", media.Loras is { Count: > 0 } loras ? JsonSerializer.Serialize(loras.Select(CatalogText.Clean)) : null);
            command.Set("@score", media.Score);
            command.Set("@phash", media.PerceptualHash);
            command.Set("@ingested", Sql.Timestamp(media.IngestedAt ?? time.GetUtcNow()));
            command.Set("@session", sessionId);
            command.Set("@scheduler", CatalogText.Clean(media.Scheduler));
            command.Set("@modelHash", CatalogText.Clean(media.ModelHash));
            command.Set("@vae", CatalogText.Clean(media.Vae));
            command.Set("@denoise", media.Denoise);
            command.Set("@clipSkip", media.ClipSkip);
            command.Set("@hiresUpscale", media.HiresUpscale);
            command.Set("@hiresUpscaler", CatalogText.Clean(media.HiresUpscaler));
            command.Set("@generator", CatalogText.Clean(media.Generator));
            command.Set("@generatorVersion", CatalogText.Clean(media.GeneratorVersion));
            command.Set("@samplers", media.Samplers);
        }

        var clear = database.Statement(transaction, "DELETE FROM media_keywords WHERE media_id = @id; DELETE FROM media_loras WHERE media_id = @id; DELETE FROM media_fts WHERE rowid = @id");
        clear.Set("@id", id);
        await clear.ExecuteNonQueryAsync(cancellationToken);

        var keywords = media.Keywords?.Select(CatalogText.Clean).OfType<string>().Distinct(StringComparer.Ordinal).ToList() ?? [];
        if (keywords.Count > 0)
        {
            var insert = database.Statement(transaction, "INSERT INTO media_keywords(media_id, keyword) VALUES(@id, @keyword) ON CONFLICT DO NOTHING");
            insert.Set("@id", id);
            var keyword = insert.Param("@keyword", DbType.String);
            foreach (var word in keywords)
            {
                keyword.Value = word;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        // The LoRAs with their weights; names alone (media.Loras) when no weights were read.
        var uses = media.LoraWeights ?? media.Loras?.Select(name => new LoraUse(name, null)).ToList() ?? [];
        if (uses.Count > 0)
        {
            var insert = database.Statement(transaction, "INSERT INTO media_loras(media_id, name, weight) VALUES(@id, @name, @weight) ON CONFLICT DO NOTHING");
            insert.Set("@id", id);
            var name = insert.Param("@name", DbType.String);
            var weight = insert.Param("@weight", DbType.Double);
            foreach (var lora in uses)
            {
                name.Value = CatalogText.Clean(lora.Name);
                weight.Value = (object?)lora.Weight ?? DBNull.Value;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await IndexTextAsync(transaction, id, CatalogText.Clean(media.Prompt), CatalogText.Clean(media.NegativePrompt), path,
            keywords.Count == 0 ? null : string.Join(' ', keywords), cancellationToken);
        return id;
    }

    /// <summary>Writes a file's full-text entry (after any old one was deleted).</summary>
    private async Task IndexTextAsync(DbTransaction transaction, long id, string? prompt, string? negative, string path, string? keywords, CancellationToken cancellationToken)
    {
        var text = database.Statement(transaction, _dialect.InsertText);
        _dialect.BindText(text, id, prompt, negative, path, keywords);
        await text.ExecuteNonQueryAsync(cancellationToken);
    }
}
