namespace SafeHaven.WhitelistModel.Features;

/// <summary>The nearest popular name to a given name, and how many edits away it is.</summary>
public sealed record NearestPopularName(string Name, int Distance);

/// <summary>
/// The most downloaded package names (normalised), with a fast "nearest name within two edits" lookup
/// (symmetric-delete index, verified with <see cref="EditDistance"/>) and a "popular name plus affix" test.
/// </summary>
public sealed class PopularNameIndex
{
    /// <summary>Distances above this are reported as "more than" it.</summary>
    public const int MaxDistance = 2;

    /// <summary>Shortest popular name considered for affix matches: shorter ones ("a", "six") match too much by chance.</summary>
    public const int MinAffixLength = 4;

    private readonly Dictionary<string, List<int>> _deletes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _rank = new(StringComparer.Ordinal);
    private readonly List<string> _names;

    /// <param name="namesByPopularity">Normalised names, most popular first.</param>
    public PopularNameIndex(IEnumerable<string> namesByPopularity)
    {
        ArgumentNullException.ThrowIfNull(namesByPopularity);
        _names = [];
        foreach (var name in namesByPopularity)
        {
            if (string.IsNullOrEmpty(name) || _rank.ContainsKey(name))
            {
                continue;
            }
            _rank[name] = _names.Count;
            _names.Add(name);
        }
        for (var i = 0; i < _names.Count; i++)
        {
            foreach (var variant in Deletes(_names[i]))
            {
                if (!_deletes.TryGetValue(variant, out var list))
                {
                    _deletes[variant] = list = [];
                }
                if (list.Count == 0 || list[^1] != i)
                {
                    list.Add(i);
                }
            }
        }
    }

    public int Count => _names.Count;

    public IReadOnlyList<string> Names => _names;

    public bool Contains(string normalizedName) => _rank.ContainsKey(normalizedName);

    /// <summary>
    /// The closest popular name other than <paramref name="normalizedName"/> itself, when within <see cref="MaxDistance"/> edits;
    /// ties go to the more popular name. Null when none is that close.
    /// </summary>
    public NearestPopularName? Nearest(string normalizedName)
    {
        ArgumentNullException.ThrowIfNull(normalizedName);
        var candidates = new HashSet<int>();
        foreach (var variant in Deletes(normalizedName))
        {
            if (_deletes.TryGetValue(variant, out var list))
            {
                candidates.UnionWith(list);
            }
        }
        NearestPopularName? best = null;
        var bestRank = int.MaxValue;
        foreach (var index in candidates)
        {
            var candidate = _names[index];
            if (candidate == normalizedName)
            {
                continue;
            }
            var distance = EditDistance.Compute(normalizedName, candidate);
            if (distance > MaxDistance)
            {
                continue;
            }
            if (best is null || distance < best.Distance || (distance == best.Distance && index < bestRank))
            {
                best = new NearestPopularName(candidate, distance);
                bestRank = index;
            }
        }
        return best;
    }

    /// <summary>
    /// A popular name that <paramref name="normalizedName"/> extends by a '-'-separated prefix or suffix
    /// (<c>requests-toolkit</c>, <c>py-numpy</c>), the longest one; null when none.
    /// </summary>
    public string? ExtendedPopularName(string normalizedName)
    {
        var parts = normalizedName.Split('-');
        string? best = null;
        for (var start = 0; start < parts.Length; start++)
        {
            for (var end = start + 1; end <= parts.Length; end++)
            {
                if (start == 0 && end == parts.Length)
                {
                    continue;
                }
                var inner = string.Join('-', parts[start..end]);
                if (inner.Length >= MinAffixLength && _rank.ContainsKey(inner) && (best is null || inner.Length > best.Length))
                {
                    best = inner;
                }
            }
        }
        return best;
    }

    /// <summary>
    /// The popular names (3 characters or more) found among the '-'-separated words of <paramref name="normalizedName"/>,
    /// e.g. <c>pandas-numpy</c> gives pandas and numpy.
    /// </summary>
    public IReadOnlyList<string> PopularWords(string normalizedName) =>
        normalizedName.Split('-').Where(w => w.Length >= 3 && _rank.ContainsKey(w)).Distinct(StringComparer.Ordinal).ToList();

    private static HashSet<string> Deletes(string word)
    {
        var result = new HashSet<string>(StringComparer.Ordinal) { word };
        var frontier = new List<string> { word };
        for (var depth = 0; depth < MaxDistance; depth++)
        {
            var next = new List<string>();
            foreach (var w in frontier)
            {
                for (var i = 0; i < w.Length; i++)
                {
                    var shorter = w.Remove(i, 1);
                    if (result.Add(shorter))
                    {
                        next.Add(shorter);
                    }
                }
            }
            frontier = next;
        }
        return result;
    }
}
