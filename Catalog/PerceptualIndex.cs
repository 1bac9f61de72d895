using System.Collections;
using System.Numerics;

namespace IngestLite.Catalog;

/// <summary>
/// The catalog's images by perceptual hash, in memory, for near-duplicate lookups without a scan: multi-index
/// hashing over the hash's four 16-bit quarters. Two hashes within Hamming distance 7 differ in at most one bit
/// in at least one quarter (pigeonhole: four quarters of two bits each would be 8), so the candidates are the
/// images sharing a quarter exactly or but for one bit: 4 × 17 buckets, about 4 × 17 × n / 65,536 images, each
/// then checked in full. Larger distances fall back to a scan. Loaded from the catalog on first use, then kept
/// current by every commit. An image is a slot in plain arrays (id and hash, 16 bytes; the slots are in id order
/// as loaded, found by binary search) and four entries in the buckets, which are built in one counting sort
/// (16 bytes an image plus 1 MB): ~33 MB at a million images. Hashes set since the build go to a small delta and
/// removed images are only marked; once the changes reach an eighth of the images, the buckets are rebuilt.
/// </summary>
public sealed class PerceptualIndex(CatalogDatabase database)
{
    /// <summary>The largest distance the buckets answer exactly; above it a lookup scans.</summary>
    public const int IndexedDistance = 7;

    /// <summary>A bucket per quarter and value: <c>(quarter &lt;&lt; 16) | value</c>.</summary>
    private const int Buckets = 4 << 16;

    private readonly Lock _gate = new();

    // Slots [0, _sorted) are the build's, in id order; later ones are found through _added. A slot is never
    // reused before the next build: a removed one is only no longer _live (a re-added id revives its slot).
    private long[] _ids = [];
    private ulong[] _hashes = [];
    private BitArray _live = new(0);
    private int _slots;
    private int _sorted;
    private int _count;
    private Dictionary<long, int>? _added;

    // Every slot, live or not, has an entry for each quarter of its hash in the build's buckets (bucket k's slots
    // are _members[_start[k] .. _start[k + 1]]) or the delta (a chain per bucket from _deltaHead[k], each entry's
    // Next the one before it plus 1, 0 ending it). Entries of a hash a slot no longer has stay until the next
    // build: a candidate is always checked against its slot's hash.
    private int[] _start = [];
    private int[] _members = [];
    private int[]? _deltaHead;
    private (int Slot, int Next)[] _delta = [];
    private int _deltaCount;
    private int _changes;
    private bool _loaded;

    /// <summary>The images indexed (0 until the first lookup loads them).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
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
            void Consider(int slot)
            {
                var d = BitOperations.PopCount(_hashes[slot] ^ hash);
                if (d <= distance && _live[slot] && _ids[slot] != except)
                {
                    found.Add((_ids[slot], d));
                }
            }

            if (distance > IndexedDistance)
            {
                for (var slot = 0; slot < _slots; slot++)
                {
                    Consider(slot);
                }
            }
            else
            {
                foreach (var slot in new Candidates(this, hash))
                {
                    Consider(slot);
                }
            }

            // A slot found in several buckets is one image: equal neighbours once sorted.
            found.Sort((a, b) => a.Distance != b.Distance ? a.Distance - b.Distance : a.Id.CompareTo(b.Id));
            var nearest = new List<(long Id, int Distance)>();
            foreach (var f in found)
            {
                if (nearest.Count >= limit)
                {
                    break;
                }

                if (nearest.Count == 0 || nearest[^1].Id != f.Id)
                {
                    nearest.Add(f);
                }
            }

            return nearest;
        }
    }

    /// <summary>The hash of a catalogued image, if it has one.</summary>
    public ulong? HashOf(long id)
    {
        lock (_gate)
        {
            LoadLocked();
            return SlotOf(id) is var slot and >= 0 && _live[slot] ? _hashes[slot] : null;
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
            var parent = new int[_slots];
            for (var slot = 0; slot < _slots; slot++)
            {
                parent[slot] = slot;
            }

            int Find(int x)
            {
                while (parent[x] != x)
                {
                    parent[x] = parent[parent[x]];
                    x = parent[x];
                }

                return x;
            }

            void Join(int slot, int other)
            {
                if (other > slot && _live[other] && BitOperations.PopCount(_hashes[slot] ^ _hashes[other]) <= distance)
                {
                    parent[Find(other)] = Find(slot);
                }
            }

            for (var slot = 0; slot < _slots; slot++)
            {
                if (!_live[slot])
                {
                    continue;
                }

                if (distance > IndexedDistance)
                {
                    for (var other = slot + 1; other < _slots; other++)
                    {
                        Join(slot, other);
                    }
                }
                else
                {
                    foreach (var other in new Candidates(this, _hashes[slot]))
                    {
                        Join(slot, other);
                    }
                }
            }

            var size = new int[_slots];
            for (var slot = 0; slot < _slots; slot++)
            {
                if (_live[slot])
                {
                    size[Find(slot)]++;
                }
            }

            var groups = new Dictionary<int, List<long>>();
            for (var slot = 0; slot < _slots; slot++)
            {
                if (_live[slot] && Find(slot) is var root && size[root] > 1)
                {
                    if (!groups.TryGetValue(root, out var members))
                    {
                        groups[root] = members = new List<long>(size[root]);
                    }

                    members.Add(_ids[slot]);
                }
            }

            return [.. groups.Values.Select(g => (IReadOnlyList<long>)[.. g.Order()])
                .OrderByDescending(g => g.Count).ThenBy(g => g[0])];
        }
    }

    private static int Key(int quarter, ulong hash) => (quarter << 16) | (int)((hash >> (quarter * 16)) & 0xFFFF);

    private int SlotOf(long id)
    {
        var at = _ids.AsSpan(0, _sorted).BinarySearch(id);
        return at >= 0 ? at : _added?.TryGetValue(id, out var slot) == true ? slot : -1;
    }

    private void LoadLocked()
    {
        if (_loaded)
        {
            return;
        }

        var ids = new long[1024];
        var hashes = new ulong[1024];
        var n = 0;
        using (var connection = database.OpenRead())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, phash FROM media WHERE phash IS NOT NULL AND kind = 'image'";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (n == ids.Length)
                {
                    Array.Resize(ref ids, n * 2);
                    Array.Resize(ref hashes, n * 2);
                }

                ids[n] = reader.GetInt64(0);
                hashes[n++] = unchecked((ulong)reader.GetInt64(1));
            }
        }

        Build(ids, hashes, n);
        _loaded = true;
    }

    private void SetLocked(long id, ulong? hash)
    {
        var slot = SlotOf(id);
        if (hash is not { } h)
        {
            if (slot >= 0 && _live[slot])
            {
                _live[slot] = false;
                _count--;
                Changed();
            }

            return;
        }

        if (slot < 0)
        {
            if (_slots == _ids.Length)
            {
                var capacity = _slots + Math.Max(_slots / 8, 1024);
                Array.Resize(ref _ids, capacity);
                Array.Resize(ref _hashes, capacity);
                _live.Length = capacity;
            }

            slot = _slots++;
            _ids[slot] = id;
            _hashes[slot] = ~h; // every quarter differs: all four get an entry
            (_added ??= [])[id] = slot;
        }
        else if (_live[slot] && _hashes[slot] == h)
        {
            return;
        }

        for (var quarter = 0; quarter < 4; quarter++)
        {
            if (Key(quarter, h) != Key(quarter, _hashes[slot]))
            {
                _deltaHead ??= new int[Buckets];
                if (_deltaCount == _delta.Length)
                {
                    Array.Resize(ref _delta, Math.Max(1024, _deltaCount * 2));
                }

                var key = Key(quarter, h);
                _delta[_deltaCount] = (slot, _deltaHead[key]);
                _deltaHead[key] = ++_deltaCount;
            }
        }

        _hashes[slot] = h;
        if (!_live[slot])
        {
            _live[slot] = true;
            _count++;
        }

        Changed();
    }

    /// <summary>Rebuilds the buckets from the live slots once the changes since the last build reach an eighth of it.</summary>
    private void Changed()
    {
        if (++_changes < Math.Max(_sorted / 8, 1024))
        {
            return;
        }

        var ids = new long[_count];
        var hashes = new ulong[_count];
        var n = 0;
        for (var slot = 0; slot < _slots; slot++)
        {
            if (_live[slot])
            {
                ids[n] = _ids[slot];
                hashes[n++] = _hashes[slot];
            }
        }

        Build(ids, hashes, n);
    }

    /// <summary>Takes the first <paramref name="n"/> images as the slots and sorts them into the buckets.</summary>
    private void Build(long[] ids, ulong[] hashes, int n)
    {
        if (ids.Length != n)
        {
            Array.Resize(ref ids, n);
            Array.Resize(ref hashes, n);
        }

        for (var i = 1; i < n; i++)
        {
            if (ids[i - 1] > ids[i])
            {
                Array.Sort(ids, hashes);
                break;
            }
        }

        // Counting sort: each bucket's size, its start, then its slots (advancing each start to the next bucket's).
        var start = new int[Buckets + 1];
        for (var quarter = 0; quarter < 4; quarter++)
        {
            foreach (var hash in hashes)
            {
                start[Key(quarter, hash)]++;
            }
        }

        for (int key = 0, total = 0; key < Buckets; key++)
        {
            (start[key], total) = (total, total + start[key]);
        }

        var members = new int[4 * n];
        for (var quarter = 0; quarter < 4; quarter++)
        {
            for (var slot = 0; slot < n; slot++)
            {
                members[start[Key(quarter, hashes[slot])]++] = slot;
            }
        }

        Array.Copy(start, 0, start, 1, Buckets);
        start[0] = 0;

        (_ids, _hashes, _live, _slots, _sorted, _count, _added) = (ids, hashes, new BitArray(n, true), n, n, n, null);
        (_start, _members, _deltaHead, _delta, _deltaCount, _changes) = (start, members, null, [], 0, 0);
    }

    /// <summary>The slots in the 4 × 17 buckets of a hash's quarters and their one-bit neighbours, some more than once, removed ones too.</summary>
    private ref struct Candidates(PerceptualIndex index, ulong hash)
    {
        private int _probe = -1;
        private int _at;
        private int _end;
        private int _entry;

        public int Current { get; private set; }

        public readonly Candidates GetEnumerator() => this;

        public bool MoveNext()
        {
            while (true)
            {
                if (_at < _end)
                {
                    Current = index._members[_at++];
                    return true;
                }

                if (_entry > 0)
                {
                    (Current, _entry) = index._delta[_entry - 1];
                    return true;
                }

                if (++_probe == 4 * 17)
                {
                    return false;
                }

                var flip = (_probe % 17) - 1;
                var key = Key(_probe / 17, hash) ^ (flip < 0 ? 0 : 1 << flip);
                (_at, _end, _entry) = (index._start[key], index._start[key + 1], index._deltaHead?[key] ?? 0);
            }
        }
    }
}
