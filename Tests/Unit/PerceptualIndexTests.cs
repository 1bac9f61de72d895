using System.Numerics;
using IngestLite.Catalog;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Unit;

/// <summary>The near-duplicate index against a plain scan: loaded from the catalog, then through updates, re-hashes, removals and new ids.</summary>
[TestFixture(CatalogBackend.Sqlite)]
[TestFixture(CatalogBackend.PostgreSql)]
public sealed class PerceptualIndexTests(CatalogBackend backend)
{
    [Test]
    public async Task Lookups_match_a_scan_after_the_load_and_through_changes_that_force_rebuilds()
    {
        await using var catalog = await TestCatalog.CreateAsync(backend);
        var database = catalog.Database;
        var random = new Random(11);
        var model = new Dictionary<long, ulong>();
        ulong Flipped(ulong hash, int bits)
        {
            foreach (var bit in Enumerable.Range(0, 64).OrderBy(_ => random.Next()).Take(bits))
            {
                hash ^= 1UL << bit;
            }

            return hash;
        }

        // Random hashes, every fourth a neighbour 0-8 bits from an earlier one; a video's and a missing hash are not indexed.
        ulong NewHash() => model.Count > 0 && random.Next(4) == 0
            ? Flipped(model.Values.ElementAt(random.Next(model.Count)), random.Next(9))
            : (ulong)random.NextInt64(long.MinValue, long.MaxValue);
        await database.WriteAsync(async (connection, transaction, ct) =>
        {
            var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO media(id, path, dir, name, size, mtime, kind, sha256, phash, ingested_at)
                VALUES(@id, @path, 'd', @path, 1, 1, @kind, 'x', @phash, '2026-01-01T00:00:00.000Z')
                """;
            var id = insert.Param("@id", System.Data.DbType.Int64);
            var path = insert.Param("@path", System.Data.DbType.String);
            var kind = insert.Param("@kind", System.Data.DbType.String);
            var phash = insert.Param("@phash", System.Data.DbType.Int64);
            for (long i = 1; i <= 4000; i++)
            {
                var hash = NewHash();
                (id.Value, path.Value, kind.Value) = (i, $"d/{i}.png", i % 193 == 0 ? "video" : "image");
                phash.Value = i % 89 == 0 ? DBNull.Value : unchecked((long)hash);
                await insert.ExecuteNonQueryAsync(ct);
                if (i % 193 != 0 && i % 89 != 0)
                {
                    model[i] = hash;
                }
            }
        }, CancellationToken.None);

        var index = new PerceptualIndex(database);
        index.Set(5000, 1);
        Assert.That(index.Count, Is.Zero, "not loaded before the first lookup");
        Assert.That(index.HashOf(5000), Is.Null, "a change before the load is the catalog's to tell");
        Assert.That(index.Count, Is.EqualTo(model.Count));
        var known = model.Keys.ToList();
        Check(index, model, known, random, "after the load");

        // Changes: a new hash, a neighbour of one, the same hash again, a removal, one of a removed id, new ids (some
        // negative or far beyond the others). 3,500, most of them changing something: at this size the buckets are
        // rebuilt every 1,024 changes, so the checks see a delta and removals before, after and between rebuilds.
        var next = 4001L;
        for (var change = 1; change <= 3500; change++)
        {
            var id = known[random.Next(known.Count)];
            ulong? hash = random.Next(7) switch
            {
                0 => NewHash(),
                1 or 2 => model.TryGetValue(id, out var h) ? Flipped(h, random.Next(1, 3)) : NewHash(),
                3 => model.GetValueOrDefault(id, 42UL),
                4 => null,
                _ => NewHash(),
            };
            if (random.Next(7) == 6)
            {
                id = random.Next(10) switch { 0 => -next, 1 => next * 1_000_000_007L, _ => next };
                known.Add(id);
                next++;
            }

            index.Set(id, hash is { } set ? unchecked((long)set) : null);
            if (hash is { } value)
            {
                model[id] = value;
            }
            else
            {
                model.Remove(id);
            }

            if (change % 250 == 0)
            {
                Check(index, model, known, random, $"after {change} changes");
            }
        }
    }

    private static void Check(PerceptualIndex index, Dictionary<long, ulong> model, List<long> known, Random random, string when)
    {
        Assert.That(index.Count, Is.EqualTo(model.Count), when);
        var ids = model.Keys.ToList();
        foreach (var id in known.Where((_, i) => i % 10 == 0 || i > known.Count - 100).Concat([0, -1, 89, 193, 5000, long.MaxValue]))
        {
            Assert.That(index.HashOf(id), Is.EqualTo(model.TryGetValue(id, out var hash) ? hash : null), $"{when}: hash of {id}");
        }

        for (var lookup = 0; lookup < 40; lookup++)
        {
            // An image's own hash (excluding it), or a hash a few bits from one.
            var id = ids[random.Next(ids.Count)];
            var hash = lookup % 2 == 0 ? model[id] : model[id] ^ (1UL << random.Next(64)) ^ (1UL << random.Next(64));
            long? except = lookup % 2 == 0 ? id : null;
            foreach (var distance in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 9 })
            {
                var limit = lookup % 4 == 0 ? 3 : 1000;
                var expected = model.Where(m => m.Key != except).Select(m => (Id: m.Key, Distance: BitOperations.PopCount(m.Value ^ hash)))
                    .Where(m => m.Distance <= distance).OrderBy(m => m.Distance).ThenBy(m => m.Id).Take(limit).ToList();
                Assert.That(index.Near(hash, distance, limit, except), Is.EqualTo(expected), $"{when}: near {hash:x16} within {distance}");
            }
        }

        foreach (var distance in new[] { 2, 7, 9 })
        {
            Assert.That(index.Groups(distance), Is.EqualTo(Groups(model, distance)), $"{when}: groups within {distance}");
        }
    }

    /// <summary>Connected components by a scan of every pair.</summary>
    private static List<List<long>> Groups(Dictionary<long, ulong> model, int distance)
    {
        var ids = model.Keys.Order().ToArray();
        var hashes = ids.Select(id => model[id]).ToArray();
        var parent = Enumerable.Range(0, ids.Length).ToArray();
        int Find(int x) => parent[x] == x ? x : parent[x] = Find(parent[x]);
        for (var a = 0; a < ids.Length; a++)
        {
            for (var b = a + 1; b < ids.Length; b++)
            {
                if (BitOperations.PopCount(hashes[a] ^ hashes[b]) <= distance)
                {
                    parent[Find(b)] = Find(a);
                }
            }
        }

        return [.. Enumerable.Range(0, ids.Length).GroupBy(Find).Where(g => g.Count() > 1)
            .Select(g => g.Select(i => ids[i]).Order().ToList()).OrderByDescending(g => g.Count).ThenBy(g => g[0])];
    }
}
