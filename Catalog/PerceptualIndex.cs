using System.Numerics;

namespace IngestLite.Catalog;

/// <summary>
/// The catalog's images by perceptual hash, in memory, for near-duplicate lookups without a scan: multi-index
/// hashing over the hash's four 16-bit quarters. Two hashes within Hamming distance 7 differ in at most one bit
/// in at least one quarter (pigeonhole: four quarters of two bits each would be 8), so the candidates are the
/// images sharing a quarter exactly or but for one bit: 4 × 17 buckets, about 4 × 17 × n / 65,536 images, each
/// then checked in full. Larger distances fall back to a scan. Loaded from the catalog on first use (16 bytes an
/// image plus the buckets: ~40 MB at a million images), then kept current by every commit.
/// </summary>
public sealed class PerceptualIndex(CatalogDatabase database)
{
    /// <summary>The largest distance the buckets answer exactly; above it a lookup scans.</summary>
    public const int IndexedDistance = 7;

    private readonly Lock _gate = new();
    private readonly Dictionary<long, int> _slotOf = [];
    private readonly Dictionary<int, List<int>> _buckets = [];
    private readonly List<long> _ids = [];
    private readonly List<ulong> _hashes = [];
    private readonly Stack<int> _free = new();
    private bool _loaded;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _slotOf.Count;
            }
        }
    }

    /// <summary>Records an image's hash after its commit (null removes it). Before the first lookup, the load reads it from the catalog instead.</summary>
    public void Set(long id, long? hash)
    {
        lock (_gate)
        {
            if (_loaded)
            {
                SetLocked(id, hash is { } h ? unchecked((ulong)h) : null);
            }
        }
    }

    /// <summary>The images within <paramref name="distance"/> of <paramref name="hash"/>, nearest first (ties by id), at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<(long Id, int Distance)> Near(ulong hash, int distance, int limit, long? except = null)
    {
        lock (_gate)
        {
            LoadLocked();
            var found = new List<(long Id, int Distance)>();
            foreach (var slot in CandidatesLocked(hash, distance))
            {
                var d = BitOperations.PopCount(_hashes[slot] ^ hash);
                if (d <= distance && _ids[slot] != except)
                {
                    found.Add((_ids[slot], d));
                }
            }

            return [.. found.OrderBy(f => f.Distance).ThenBy(f => f.Id).Take(limit)];
        }
    }

    /// <summary>The hash of a catalogued image, if it has one.</summary>
    public ulong? HashOf(long id)
    {
        lock (_gate)
        {
            LoadLocked();
            return _slotOf.TryGetValue(id, out var slot) ? _hashes[slot] : null;
        }
    }

    /// <summary>
    /// Groups of images within <paramref name="distance"/> of another in the group (connected components),
    /// largest first, each at least two images; its members by id.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<long>> Groups(int distance)
    {
        lock (_gate)
        {
            LoadLocked();
            var parent = Enumerable.Range(0, _ids.Count).ToArray();
            int Find(int x)
            {
                while (parent[x] != x)
                {
                    parent[x] = parent[parent[x]];
                    x = parent[x];
                }

                return x;
            }

            foreach (var slot in _slotOf.Values)
            {
                foreach (var other in CandidatesLocked(_hashes[slot], distance))
                {
                    if (other > slot && _slotOf.ContainsKey(_ids[other]) && BitOperations.PopCount(_hashes[slot] ^ _hashes[other]) <= distance)
                    {
                        parent[Find(other)] = Find(slot);
                    }
                }
            }

            return [.. _slotOf.Values.GroupBy(Find).Where(g => g.Count() > 1)
                .Select(g => (IReadOnlyList<long>)[.. g.Select(s => _ids[s]).Order()])
                .OrderByDescending(g => g.Count).ThenBy(g => g[0])];
        }
    }

    private IEnumerable<int> CandidatesLocked(ulong hash, int distance)
    {
        if (distance > IndexedDistance)
        {
            foreach (var slot in _slotOf.Values)
            {
                yield return slot;
            }

            yield break;
        }

        var seen = new HashSet<int>();
        for (var quarter = 0; quarter < 4; quarter++)
        {
            var value = (int)((hash >> (quarter * 16)) & 0xFFFF);
            for (var flip = -1; flip < 16; flip++)
            {
                var probe = flip < 0 ? value : value ^ (1 << flip);
                if (_buckets.TryGetValue((quarter << 16) | probe, out var bucket))
                {
                    foreach (var slot in bucket)
                    {
                        if (seen.Add(slot))
                        {
                            yield return slot;
                        }
                    }
                }
            }
        }
    }

    private void LoadLocked()
    {
        if (_loaded)
        {
            return;
        }

        using var connection = database.OpenRead();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, phash FROM media WHERE phash IS NOT NULL AND kind = 'image'";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            SetLocked(reader.GetInt64(0), unchecked((ulong)reader.GetInt64(1)));
        }

        _loaded = true;
    }

    private void SetLocked(long id, ulong? hash)
    {
        if (_slotOf.TryGetValue(id, out var slot))
        {
            if (hash == _hashes[slot])
            {
                return;
            }

            foreach (var key in Keys(_hashes[slot]))
            {
                _buckets[key].Remove(slot);
            }

            _slotOf.Remove(id);
            _free.Push(slot);
        }

        if (hash is not { } h)
        {
            return;
        }

        if (_free.TryPop(out slot))
        {
            _ids[slot] = id;
            _hashes[slot] = h;
        }
        else
        {
            slot = _ids.Count;
            _ids.Add(id);
            _hashes.Add(h);
        }

        _slotOf[id] = slot;
        foreach (var key in Keys(h))
        {
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                _buckets[key] = bucket = [];
            }

            bucket.Add(slot);
        }
    }

    private static IEnumerable<int> Keys(ulong hash)
    {
        for (var quarter = 0; quarter < 4; quarter++)
        {
            yield return (quarter << 16) | (int)((hash >> (quarter * 16)) & 0xFFFF);
        }
    }
}
