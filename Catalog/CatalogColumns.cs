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

    /// <summary>Per block of 4,096 ids, the largest file date and score ever set in it: upper bounds for stopping a search early.</summary>
    private long[] _blockMtime = [];
    private double[] _blockScore = [];
    private const int BlockBits = 12;
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
            var page = new Page(count);
            foreach (var id in ids)
            {
                if (id > 0 && id < _loras.Length)
                {
                    page.Offer(id, Key(id, sort));
                }
            }

            return page.Ids();
        }
    }

    /// <summary>
    /// The first <paramref name="count"/> files, in a sort's order (see <see cref="Top"/>), that pass every part of
    /// <paramref name="filter"/> but its text: among <paramref name="candidates"/> (the text's matches, in chunks, in
    /// descending id order) or, when that is null, among every file. The files are seen newest id first, and the
    /// search stops once the page is full and no file left could enter it: their ids are lower, so it is enough that
    /// the page's last key is at least the largest key of any lower block of ids. When files are catalogued roughly
    /// in date order (an ingest usually is), a date-sorted page is found after a few pages' worth of matches; in the
    /// worst case every candidate is seen, as <see cref="Filter"/> sees them.
    /// </summary>
    public IReadOnlyList<long> TopMatching(MediaFilter filter, MediaSort sort, int count, IEnumerable<IReadOnlyList<long>>? candidates)
    {
        var page = new Page(count);
        foreach (var chunk in candidates ?? [])
        {
            lock (_gate)
            {
                LoadLocked();
                if (Rank(new Matcher(this, filter), sort, page, chunk))
                {
                    break;
                }
            }
        }

        if (candidates is null)
        {
            lock (_gate)
            {
                LoadLocked();
                Rank(new Matcher(this, filter), sort, page, Descending(_loras.Length - 1));
            }
        }

        return page.Ids();

        static IEnumerable<long> Descending(long from)
        {
            for (var id = from; id > 0; id--)
            {
                yield return id;
            }
        }
    }

    /// <summary>Offers the matching <paramref name="ids"/> (descending) to the page; true when no lower id could enter it.</summary>
    private bool Rank(Matcher matcher, MediaSort sort, Page page, IEnumerable<long> ids)
    {
        // The largest key in blocks 0..b, for every b: a bound on the key of any id in them.
        var blocks = (_loras.Length >> BlockBits) + 1;
        var bound = new double[blocks];
        var running = double.NegativeInfinity;
        for (var b = 0; b < blocks && b < _blockMtime.Length; b++)
        {
            running = Math.Max(running, sort == MediaSort.Score ? _blockScore[b] : _blockMtime[b]);
            bound[b] = running;
        }

        for (var b = _blockMtime.Length; b < blocks; b++)
        {
            bound[b] = running;
        }

        foreach (var id in ids)
        {
            if (id <= 0 || id >= _loras.Length)
            {
                continue;
            }

            // Every id left is at most this one: ids seen before are higher, so they also win ties.
            if (page.Full && page.Lowest >= bound[id >> BlockBits])
            {
                return true;
            }

            if (_kind[id] != 0 && matcher.Passes(id))
            {
                page.Offer(id, Key(id, sort));
            }
        }

        return false;
    }

    private double Key(long id, MediaSort sort) => sort == MediaSort.Score ? (double.IsNaN(_score[id]) ? double.NegativeInfinity : _score[id]) : _mtime[id];

    /// <summary>The best <c>count</c> ids by (key, id), highest first.</summary>
    private sealed class Page(int count)
    {
        private readonly PriorityQueue<long, (double Key, long Id)> _ranked = new(count + 1);

        public bool Full => count == 0 || _ranked.Count == count;

        /// <summary>The key of the page's last id (valid when full).</summary>
        public double Lowest => _ranked.TryPeek(out _, out var lowest) ? lowest.Key : double.PositiveInfinity;

        public void Offer(long id, double key)
        {
            if (_ranked.Count < count)
            {
                _ranked.Enqueue(id, (key, id));
            }
            else if (count > 0 && _ranked.TryPeek(out _, out var lowest) && (key, id).CompareTo(lowest) > 0)
            {
                // Most ids rank below the page's last once it fills: one comparison, no heap work.
                _ranked.DequeueEnqueue(id, (key, id));
            }
        }

        public long[] Ids()
        {
            var result = new long[_ranked.Count];
            for (var i = result.Length - 1; i >= 0; i--)
            {
                result[i] = _ranked.Dequeue();
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
            var matcher = new Matcher(this, filter);
            var passed = new List<long>();
            if (candidates is not null)
            {
                foreach (var id in candidates)
                {
                    if (id > 0 && id < _loras.Length && _kind[id] != 0 && matcher.Passes(id))
                    {
                        passed.Add(id);
                    }
                }
            }
            else
            {
                for (long id = 1; id < _loras.Length; id++)
                {
                    if (_kind[id] != 0 && matcher.Passes(id))
                    {
                        passed.Add(id);
                    }
                }
            }

            return passed;
        }
    }

    /// <summary>A filter's tests on the columns (all but its text, folder and ids); used under the lock.</summary>
    private sealed class Matcher
    {
        private readonly CatalogColumns _c;
        private readonly MediaFilter _filter;
        private readonly ushort[]? _models, _samplers, _schedulers, _loras;
        private readonly int _lorasWanted;
        private readonly byte _kind;
        private readonly Range<long> _date;

        public Matcher(CatalogColumns columns, MediaFilter filter)
        {
            _c = columns;
            _filter = filter;
            ushort[]? Codes(int facet, IReadOnlyList<string> values) =>
                values.Count == 0 ? null : [.. values.Select(v => columns._codes[facet].TryGetValue(v, out var code) ? code : (ushort)0).Where(c => c > 0)];
            _models = Codes(Model, filter.Models);
            _samplers = Codes(Sampler, filter.Samplers);
            _schedulers = Codes(Scheduler, filter.Schedulers);
            _loras = Codes(Lora, filter.Loras);
            _lorasWanted = filter.Loras.Distinct(StringComparer.Ordinal).Count();
            _kind = filter.Kind switch { null => 0, "image" => 1, "video" => 2, _ => 255 };
            _date = new Range<long>(filter.Date.Min?.ToUnixTimeMilliseconds(), filter.Date.Max?.ToUnixTimeMilliseconds());
        }

        public bool Passes(long id)
        {
            var c = _c;
            if ((_models is not null && Array.IndexOf(_models, c._columns[Model][id]) < 0) ||
                (_samplers is not null && Array.IndexOf(_samplers, c._columns[Sampler][id]) < 0) ||
                (_schedulers is not null && Array.IndexOf(_schedulers, c._columns[Scheduler][id]) < 0) ||
                (_kind != 0 && c._kind[id] != _kind))
            {
                return false;
            }

            if (_loras is not null)
            {
                var found = 0;
                foreach (var code in c._loras[id] ?? [])
                {
                    found += Array.IndexOf(_loras, code) >= 0 ? 1 : 0;
                }

                if (_filter.AllLoras ? found < _lorasWanted : found == 0)
                {
                    return false;
                }
            }

            var f = _filter;
            return In(f.Steps, c._steps[id] < 0 ? null : c._steps[id]) && In(f.Cfg, double.IsNaN(c._cfg[id]) ? null : c._cfg[id]) &&
                In(f.Seed, c._seed[id] == long.MinValue ? null : c._seed[id]) && In(f.Width, c._width[id] == 0 ? null : c._width[id]) &&
                In(f.Height, c._height[id] == 0 ? null : c._height[id]) && In(f.Score, double.IsNaN(c._score[id]) ? null : c._score[id]) &&
                In(_date, c._mtime[id]);
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
        var block = id >> BlockBits;
        _blockMtime[block] = Math.Max(_blockMtime[block], keys.Mtime);
        _blockScore[block] = Math.Max(_blockScore[block], keys.Score ?? double.NegativeInfinity);
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
        var blocks = (length >> BlockBits) + 1;
        var known = _blockMtime.Length;
        Array.Resize(ref _blockMtime, blocks);
        Array.Resize(ref _blockScore, blocks);
        Array.Fill(_blockMtime, long.MinValue, known, blocks - known);
        Array.Fill(_blockScore, double.NegativeInfinity, known, blocks - known);
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
