namespace IngestLite.Catalog;

/// <summary>
/// A few columns of every catalogued file in memory, indexed by id: the facet values as small codes (model,
/// sampler, scheduler, size: two bytes each; LoRAs as a list of codes) with their totals kept as they change, and
/// the sort keys (file date, score). Facets without a filter are read off the totals; facets under a filter count
/// the codes of the matching ids, and a filtered search takes its page from the matching ids by sort key. SQL then
/// only lists ids (an index or full-text scan, no row reads) and reads the one page of rows. About 22 bytes a file
/// plus its LoRAs. Loaded from the catalog on first use, then kept current by every commit (<see cref="Set"/>).
/// </summary>
public sealed class CatalogColumns(CatalogDatabase database)
{
    /// <summary>The facets, in <see cref="MediaFacets"/> order.</summary>
    private const int Model = 0, Sampler = 1, Scheduler = 2, Size = 3, Lora = 4, Facets = 5;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ushort>[] _codes = [.. Enumerable.Range(0, Facets).Select(_ => new Dictionary<string, ushort>(StringComparer.Ordinal))];
    private readonly List<string>[] _values = [.. Enumerable.Range(0, Facets).Select(_ => new List<string> { "" })];
    private readonly List<int>[] _totals = [.. Enumerable.Range(0, Facets).Select(_ => new List<int> { 0 })];
    private ushort[][] _columns = [[], [], [], []];
    private ushort[]?[] _loras = [];
    private long[] _mtime = [];
    private float[] _score = [];
    private bool _loaded;

    /// <summary>Records a committed file's facet values (replacing what it had). Before the first use, the load reads them instead.</summary>
    public void Set(long id, MediaRecord record)
    {
        lock (_gate)
        {
            if (!_loaded)
            {
                return;
            }

            var size = record.Width is { } w && record.Height is { } h ? $"{w}x{h}" : null;
            var loras = (record.LoraWeights?.Select(l => l.Name) ?? record.Loras ?? []).Distinct(StringComparer.Ordinal);
            SetLocked(id, [record.Model, record.Sampler, record.Scheduler, size], [.. loras], record.ModifiedAt.ToUnixTimeMilliseconds(), record.Score);
        }
    }

    /// <summary>The top values of each facet over every file.</summary>
    public MediaFacets Totals(int top)
    {
        lock (_gate)
        {
            LoadLocked();
            return Shape(_totals.Select(t => t.ToArray()).ToArray(), top);
        }
    }

    /// <summary>The top values of each facet over the files <paramref name="ids"/>.</summary>
    public MediaFacets CountOf(IReadOnlyList<long> ids, int top)
    {
        lock (_gate)
        {
            LoadLocked();
            var counts = _totals.Select(t => new int[t.Count]).ToArray();
            foreach (var id in ids)
            {
                if (id <= 0 || id >= _loras.Length)
                {
                    continue;
                }

                for (var facet = 0; facet < Lora; facet++)
                {
                    counts[facet][_columns[facet][id]]++;
                }

                foreach (var code in _loras[id] ?? [])
                {
                    counts[Lora][code]++;
                }
            }

            return Shape(counts, top);
        }
    }

    /// <summary>
    /// The first <paramref name="count"/> of <paramref name="ids"/> in a sort's order, as SQL orders them: newest file
    /// date first, or highest score first (no score last), then highest id.
    /// </summary>
    public IReadOnlyList<long> Top(IReadOnlyList<long> ids, MediaSort sort, int count)
    {
        lock (_gate)
        {
            LoadLocked();
            var ranked = new PriorityQueue<long, (double Key, long Id)>(count + 1);
            foreach (var id in ids)
            {
                if (id <= 0 || id >= _loras.Length)
                {
                    continue;
                }

                var key = sort == MediaSort.Score ? (float.IsNaN(_score[id]) ? double.NegativeInfinity : _score[id]) : _mtime[id];
                ranked.Enqueue(id, (key, id));
                if (ranked.Count > count)
                {
                    ranked.Dequeue();
                }
            }

            var result = new long[ranked.Count];
            for (var i = result.Length - 1; i >= 0; i--)
            {
                result[i] = ranked.Dequeue();
            }

            return result;
        }
    }

    private MediaFacets Shape(int[][] counts, int top)
    {
        IReadOnlyList<FacetValue> Top(int facet) =>
            [.. counts[facet].Select((count, code) => (count, code)).Where(c => c.code > 0 && c.count > 0)
                .OrderByDescending(c => c.count).ThenBy(c => _values[facet][c.code], StringComparer.Ordinal).Take(top)
                .Select(c => new FacetValue(_values[facet][c.code], c.count))];
        return new MediaFacets(Top(Model), Top(Sampler), Top(Scheduler), Top(Lora), Top(Size));
    }

    private void LoadLocked()
    {
        if (_loaded)
        {
            return;
        }

        using var connection = database.OpenRead();
        var loras = new Dictionary<long, List<string>>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT media_id, name FROM media_loras";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                if (!loras.TryGetValue(id, out var names))
                {
                    loras[id] = names = [];
                }

                names.Add(reader.GetString(1));
            }
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, model, sampler, scheduler, width, height, mtime, score FROM media";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                var size = reader.IsDBNull(4) || reader.IsDBNull(5) ? null : $"{reader.GetInt32(4)}x{reader.GetInt32(5)}";
                SetLocked(id, [Text(1), Text(2), Text(3), size], loras.TryGetValue(id, out var names) ? names : [],
                    reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetDouble(7));
            }
        }

        _loaded = true;
    }

    private void SetLocked(long id, string?[] values, IReadOnlyList<string> loras, long mtime, double? score)
    {
        if (id <= 0 || id > int.MaxValue - 1)
        {
            return;
        }

        Grow(id);
        for (var facet = 0; facet < Lora; facet++)
        {
            var old = _columns[facet][id];
            var code = Code(facet, values[facet]);
            _totals[facet][old] -= old == 0 ? 0 : 1;
            _totals[facet][code] += code == 0 ? 0 : 1;
            _columns[facet][id] = code;
        }

        foreach (var code in _loras[id] ?? [])
        {
            _totals[Lora][code]--;
        }

        var next = loras.Count == 0 ? null : loras.Select(name => Code(Lora, name)).Where(c => c > 0).Distinct().ToArray();
        foreach (var code in next ?? [])
        {
            _totals[Lora][code]++;
        }

        _loras[id] = next;
        _mtime[id] = mtime;
        _score[id] = score is { } value ? (float)value : float.NaN;
    }

    /// <summary>A value's code (0 for none); a new value gets the next one, until a facet's 65,535 codes are used.</summary>
    private ushort Code(int facet, string? value)
    {
        if (value is null)
        {
            return 0;
        }

        if (_codes[facet].TryGetValue(value, out var code))
        {
            return code;
        }

        if (_values[facet].Count > ushort.MaxValue)
        {
            return 0;
        }

        code = (ushort)_values[facet].Count;
        _codes[facet][value] = code;
        _values[facet].Add(value);
        _totals[facet].Add(0);
        return code;
    }

    private void Grow(long id)
    {
        if (id < _loras.Length)
        {
            return;
        }

        var length = (int)Math.Max(id + 1, Math.Min(int.MaxValue - 1, Math.Max(1024L, _loras.Length * 2L)));
        for (var facet = 0; facet < Lora; facet++)
        {
            Array.Resize(ref _columns[facet], length);
        }

        Array.Resize(ref _loras, length);
        Array.Resize(ref _mtime, length);
        Array.Resize(ref _score, length);
    }
}
