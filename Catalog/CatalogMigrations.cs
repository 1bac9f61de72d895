namespace IngestLite.Catalog;

/// <summary>
/// The catalog's schema as numbered scripts, a list per engine. A catalog records the last one it ran (SQLite in
/// <c>PRAGMA user_version</c>, PostgreSQL in its <c>schema_version</c> table); at start-up the later ones run in
/// order, each in its own transaction with its new number. Add a script at the end of both lists; never edit
/// one that has shipped.
/// </summary>
public static class CatalogMigrations
{
    /// <summary>SQLite's scripts: script n (1-based) is element n - 1.</summary>
    public static IReadOnlyList<string> Sqlite { get; } =
    [
        // 1: media, keywords, sessions and per-file results. IF NOT EXISTS: catalogs made before numbered
        // migrations (user_version 0) already hold these tables.
        """
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
            PRIMARY KEY (session_id, ord)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS session_files_done ON session_files(session_id, done_seq);
        """,

        // 2: what each file added to its session's counters, so a crashed run's counters can be rebuilt
        // (NULL for the results already there).
        """
        ALTER TABLE session_files ADD COLUMN metadata INTEGER;
        ALTER TABLE session_files ADD COLUMN keywords INTEGER;
        ALTER TABLE session_files ADD COLUMN score INTEGER;
        ALTER TABLE session_files ADD COLUMN warnings INTEGER;
        """,

        // 3: durable marks of counters that must never go back (registry versions, a session's seq).
        """
        CREATE TABLE IF NOT EXISTS marks (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL) WITHOUT ROWID;
        """,

        // 4: a deferred session's processed file, held until its commit (the MediaRecord as JSON); NULL once committed.
        """
        ALTER TABLE session_files ADD COLUMN staged TEXT;
        """,

        // 5: generation parameters as fields, LoRAs with their weights, full-text search (FTS5, contentless: it
        // holds only its index; rowid = media.id), and indexes for the filters and facets.
        """
        ALTER TABLE media ADD COLUMN scheduler TEXT;
        ALTER TABLE media ADD COLUMN model_hash TEXT;
        ALTER TABLE media ADD COLUMN vae TEXT;
        ALTER TABLE media ADD COLUMN denoise REAL;
        ALTER TABLE media ADD COLUMN clip_skip INTEGER;
        ALTER TABLE media ADD COLUMN hires_upscale REAL;
        ALTER TABLE media ADD COLUMN hires_upscaler TEXT;
        ALTER TABLE media ADD COLUMN generator TEXT;
        ALTER TABLE media ADD COLUMN generator_version TEXT;
        ALTER TABLE media ADD COLUMN samplers INTEGER;
        CREATE TABLE media_loras (
            media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            weight REAL,
            PRIMARY KEY (media_id, name)) WITHOUT ROWID;
        CREATE INDEX media_loras_name ON media_loras(name, media_id);
        INSERT OR IGNORE INTO media_loras(media_id, name) SELECT m.id, j.value FROM media m, json_each(m.loras) j WHERE m.loras IS NOT NULL;
        CREATE VIRTUAL TABLE media_fts USING fts5(prompt, negative_prompt, path, keywords,
            content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='2 3');
        INSERT INTO media_fts(rowid, prompt, negative_prompt, path, keywords)
            SELECT m.id, m.prompt, m.negative_prompt, m.path, (SELECT group_concat(keyword, ' ') FROM media_keywords k WHERE k.media_id = m.id) FROM media m;
        CREATE INDEX media_model ON media(model);
        CREATE INDEX media_sampler ON media(sampler);
        CREATE INDEX media_scheduler ON media(scheduler);
        CREATE INDEX media_size ON media(width, height);
        CREATE INDEX media_mtime ON media(mtime DESC, id DESC);
        CREATE INDEX media_score ON media(score DESC, id DESC);
        CREATE INDEX media_name ON media(name, id);
        """,

        // 6: folders watched for new and changed files; each has its long-running session.
        """
        CREATE TABLE watches (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            directory TEXT NOT NULL,
            parameters TEXT NOT NULL,
            created_at TEXT NOT NULL);
        """,

        // 7: a catalogued file that is gone from disk (a watch saw it deleted) is kept, marked missing, until it returns.
        """
        ALTER TABLE media ADD COLUMN missing_at TEXT;
        CREATE INDEX media_missing ON media(sha256) WHERE missing_at IS NOT NULL;
        """,
    ];

    /// <summary>
    /// The PostgreSQL catalog's scripts, numbered as <see cref="Sqlite"/>'s are and recorded in <c>schema_version</c>.
    /// Script 1 is the whole schema of SQLite's seven (a new backend has no history to replay): integers are bigint,
    /// ids identities, path columns COLLATE "C" (prefix ranges need binary order), timestamps ISO-8601 text as in
    /// SQLite, and full text a tsvector per file with a GIN index (column <c>rowid</c>, as FTS5 names it).
    /// </summary>
    public static IReadOnlyList<string> PostgreSql { get; } =
    [
        """
        CREATE TABLE media (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            path text COLLATE "C" NOT NULL UNIQUE,
            dir text COLLATE "C" NOT NULL,
            name text COLLATE "C" NOT NULL,
            size bigint NOT NULL,
            mtime bigint NOT NULL,
            kind text NOT NULL,
            sha256 text NOT NULL,
            width bigint, height bigint, taken_at text, duration_seconds double precision,
            prompt text, negative_prompt text, steps bigint, sampler text, cfg_scale double precision, seed bigint, model text,
            comfy_prompt text, comfy_workflow text, loras text, score double precision, phash bigint,
            ingested_at text NOT NULL,
            session_id text,
            scheduler text, model_hash text, vae text, denoise double precision, clip_skip bigint, hires_upscale double precision,
            hires_upscaler text, generator text, generator_version text, samplers bigint,
            missing_at text);
        CREATE INDEX media_dir ON media(dir);
        CREATE INDEX media_ingested ON media(ingested_at DESC, id DESC);
        CREATE INDEX media_model ON media(model);
        CREATE INDEX media_sampler ON media(sampler);
        CREATE INDEX media_scheduler ON media(scheduler);
        CREATE INDEX media_size ON media(width, height);
        CREATE INDEX media_mtime ON media(mtime DESC, id DESC);
        CREATE INDEX media_score ON media(score DESC NULLS LAST, id DESC);
        CREATE INDEX media_name ON media(name, id);
        CREATE INDEX media_missing ON media(sha256) WHERE missing_at IS NOT NULL;
        CREATE TABLE media_keywords (
            media_id bigint NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            keyword text NOT NULL,
            PRIMARY KEY (media_id, keyword));
        CREATE INDEX media_keywords_keyword ON media_keywords(keyword);
        CREATE TABLE media_loras (
            media_id bigint NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            name text NOT NULL,
            weight double precision,
            PRIMARY KEY (media_id, name));
        CREATE INDEX media_loras_name ON media_loras(name, media_id);
        CREATE TABLE media_fts (
            rowid bigint PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
            doc tsvector NOT NULL);
        CREATE INDEX media_fts_doc ON media_fts USING gin(doc);
        CREATE TABLE sessions (
            id text COLLATE "C" PRIMARY KEY,
            parent_id text,
            created_at text COLLATE "C" NOT NULL,
            parameters text NOT NULL,
            status text NOT NULL,
            snapshot text NOT NULL);
        CREATE INDEX sessions_created ON sessions(created_at DESC);
        CREATE TABLE session_files (
            session_id text NOT NULL,
            ord bigint NOT NULL,
            path text COLLATE "C" NOT NULL,
            size bigint,
            mtime bigint,
            state text,
            stage text,
            reason text,
            duration_ms bigint,
            done_seq bigint,
            metadata bigint,
            keywords bigint,
            score bigint,
            warnings bigint,
            staged text,
            PRIMARY KEY (session_id, ord));
        CREATE INDEX session_files_done ON session_files(session_id, done_seq);
        CREATE TABLE marks (
            name text PRIMARY KEY,
            value bigint NOT NULL);
        CREATE TABLE watches (
            id text COLLATE "C" PRIMARY KEY,
            session_id text NOT NULL,
            directory text NOT NULL,
            parameters text NOT NULL,
            created_at text COLLATE "C" NOT NULL);
        """,
    ];
}
