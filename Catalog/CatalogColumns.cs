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
    private double[] _score = [];
    private double[] _cfg = [];
    private long[] _seed = [];
    private short[] _steps = [];
    private ushort[] _width = [];
    private ushort[] _height = [];
    private byte[] _kind = [];
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
            SetLocked(id, [record.Model, record.Sampler, record.Scheduler, size], [.. loras],
                new Keys(record.ModifiedAt.ToUnixTimeMilliseconds(), record.Score, record.CfgScale, record.Seed, record.Steps, record.Width, record.Height, record.Kind));
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

                var key = sort == MediaSort.Score ? (double.IsNaN(_score[id]) ? double.NegativeInfinity : _score[id]) : _mtime[id];
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

    /// <summary>
    /// Whether every part of <paramref name="filter"/> but its text can be tested here: all but a folder or an id
    /// list. (Values beyond a column's range are kept at its end: steps above 32,767, sizes above 65,535.)
    /// </summary>
    public static bool CanFilter(MediaFilter filter) => filter.Folder is null && filter.Ids is null;

    /// <summary>
    /// The ids that pass every part of <paramref name="filter"/> but its text, among <paramref name="candidates"/>
    /// (the text's matches) or, when that is null, among every file. Same rules as SQL: a file without a value
    /// fails any test of it.
    /// </summary>
    public List<long> Filter(MediaFilter filter, IReadOnlyList<long>? candidates)
    {
        lock (_gate)
        {
            LoadLocked();
            ushort[]? Codes(int facet, IReadOnlyList<string> values) =>
                values.Count == 0 ? null : [.. values.Select(v => _codes[facet].TryGetValue(v, out var code) ? code : (ushort)0).Where(c => c > 0)];
            var models = Codes(Model, filter.Models);
            var samplers = Codes(Sampler, filter.Samplers);
            var schedulers = Codes(Scheduler, filter.Schedulers);
            var loras = Codes(Lora, filter.Loras);
            var lorasWanted = filter.Loras.Distinct(StringComparer.Ordinal).Count();
            byte kind = filter.Kind switch { null => 0, "image" => 1, "video" => 2, _ => 255 };
            bool Passes(long id)
            {
                if ((models is not null && Array.IndexOf(models, _columns[Model][id]) < 0) ||
                    (samplers is not null && Array.IndexOf(samplers, _columns[Sampler][id]) < 0) ||
                    (schedulers is not null && Array.IndexOf(schedulers, _columns[Scheduler][id]) < 0) ||
                    (kind != 0 && _kind[id] != kind))
                {
                    return false;
                }

                if (loras is not null)
                {
                    var has = _loras[id] ?? [];
                    var found = has.Count(code => Array.IndexOf(loras, code) >= 0);
                    if (filter.AllLoras ? found < lorasWanted : found == 0)
                    {
                        return false;
                    }
                }

                return In(filter.Steps, _steps[id] < 0 ? null : _steps[id]) && In(filter.Cfg, double.IsNaN(_cfg[id]) ? null : _cfg[id]) &&
                    In(filter.Seed, _seed[id] == long.MinValue ? null : _seed[id]) && In(filter.Width, _width[id] == 0 ? null : _width[id]) &&
                    In(filter.Height, _height[id] == 0 ? null : _height[id]) && In(filter.Score, double.IsNaN(_score[id]) ? null : _score[id]) &&
                    In(new Range<long>(filter.Date.Min?.ToUnixTimeMilliseconds(), filter.Date.Max?.ToUnixTimeMilliseconds()), _mtime[id]);
            }

            var passed = new List<long>();
            if (candidates is not null)
            {
                foreach (var id in candidates)
                {
                    if (id > 0 && id < _loras.Length && _kind[id] != 0 && Passes(id))
                    {
                        passed.Add(id);
                    }
                }
            }
            else
            {
                for (long id = 1; id < _loras.Length; id++)
                {
                    if (_kind[id] != 0 && Passes(id))
                    {
                        passed.Add(id);
                    }
                }
            }

            return passed;
        }
    }

    private static bool In<T>(Range<T> range, T? value)
        where T : struct, IComparable<T> =>
        (range.Min is null && range.Max is null) ||
        (value is { } v && (range.Min is not { } min || v.CompareTo(min) >= 0) && (range.Max is not { } max || v.CompareTo(max) <= 0));

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
            command.CommandText = "SELECT id, model, sampler, scheduler, width, height, mtime, score, cfg_scale, seed, steps, kind FROM media";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                var size = reader.IsDBNull(4) || reader.IsDBNull(5) ? null : $"{reader.GetInt32(4)}x{reader.GetInt32(5)}";
                int? Int(int i) => reader.IsDBNull(i) ? null : reader.GetInt32(i);
                double? Real(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
                SetLocked(id, [Text(1), Text(2), Text(3), size], loras.TryGetValue(id, out var names) ? names : [],
                    new Keys(reader.GetInt64(6), Real(7), Real(8), reader.IsDBNull(9) ? null : reader.GetInt64(9), Int(10), Int(4), Int(5), reader.GetString(11)));
            }
        }

        _loaded = true;
    }

    /// <summary>A file's sort keys and the values of its range filters.</summary>
    private readonly record struct Keys(long Mtime, double? Score, double? Cfg, long? Seed, int? Steps, int? Width, int? Height, string Kind);

    private void SetLocked(long id, string?[] values, IReadOnlyList<string> loras, Keys keys)
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
        _mtime[id] = keys.Mtime;
        _score[id] = keys.Score ?? double.NaN;
        _cfg[id] = keys.Cfg ?? double.NaN;
        _seed[id] = keys.Seed ?? long.MinValue;
        _steps[id] = keys.Steps is { } steps ? (short)Math.Clamp(steps, 0, short.MaxValue) : (short)-1;
        _width[id] = keys.Width is { } width ? (ushort)Math.Clamp(width, 0, ushort.MaxValue) : (ushort)0;
        _height[id] = keys.Height is { } height ? (ushort)Math.Clamp(height, 0, ushort.MaxValue) : (ushort)0;
        _kind[id] = keys.Kind switch { "image" => 1, "video" => 2, _ => 3 };
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
        Array.Resize(ref _cfg, length);
        Array.Resize(ref _seed, length);
        Array.Resize(ref _steps, length);
        Array.Resize(ref _width, length);
        Array.Resize(ref _height, length);
        Array.Resize(ref _kind, length);
    }
}
