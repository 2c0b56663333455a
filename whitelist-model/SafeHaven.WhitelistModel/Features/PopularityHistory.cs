using System.Globalization;
using System.IO.Compression;

namespace SafeHaven.WhitelistModel.Features;

/// <summary>What the monthly top lists said about one name, using only the months that ended by the scoring date.</summary>
/// <param name="MonthsAvailable">Months of top lists that ended by the scoring date (0: the history says nothing yet).</param>
/// <param name="MonthsRanked">Of those, months in which the name was among the most downloaded.</param>
/// <param name="BestRank">Its best (lowest) rank in those months; null when never ranked.</param>
/// <param name="LastRankedMonth">The latest such month; null when never ranked.</param>
/// <param name="MonthsSinceLastRanked">Whole months from the end of that month to the scoring date; null when never ranked.</param>
public sealed record PopularitySummary(int MonthsAvailable, int MonthsRanked, int? BestRank, DateOnly? LastRankedMonth, int? MonthsSinceLastRanked)
{
    public bool EverRanked => MonthsRanked > 0;
}

/// <summary>
/// The monthly "most downloaded" lists of an ecosystem (the shared file <c>popularity/pypi-top-monthly.tsv.gz</c>: columns
/// <c>month, rank, name, download_count</c>, names PEP 503-normalised, gzip or plain text). Popularity is public and monthly,
/// so a package scored at date T may use only the months whose list was complete before T: a month counts from the first day
/// of the next month on, and nothing later is ever read. The same function serves every class of package.
/// </summary>
public sealed class PopularityHistory
{
    private readonly Dictionary<string, (DateOnly Month, int Rank)[]> _byName;
    private readonly DateOnly[] _months;

    private PopularityHistory(Dictionary<string, (DateOnly Month, int Rank)[]> byName, DateOnly[] months, string source)
    {
        _byName = byName;
        _months = months;
        Source = source;
    }

    /// <summary>Where the history was read from (a path, or a description).</summary>
    public string Source { get; }

    /// <summary>Every month with a list, oldest first.</summary>
    public IReadOnlyList<DateOnly> Months => _months;

    /// <summary>Number of distinct names ever listed.</summary>
    public int NameCount => _byName.Count;

    /// <summary>Reads the file (gzip recognised by its magic bytes, else plain text). Throws <see cref="InvalidDataException"/> naming the line of a bad row.</summary>
    public static PopularityHistory Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"popularity history file not found: {path}", path);
        }
        using var file = File.OpenRead(path);
        var magic = new byte[2];
        var read = file.Read(magic, 0, 2);
        file.Position = 0;
        using var stream = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? (Stream)new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);
        return Read(reader, path);
    }

    /// <summary>Reads the TSV with its header row (<c>month, rank, name, download_count</c>; extra columns ignored).</summary>
    public static PopularityHistory Read(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{source} is empty: expected a header 'month, rank, name, download_count'");
        var columns = header.Split('\t');
        int Column(string name) => Array.FindIndex(columns, c => c.Trim().Equals(name, StringComparison.OrdinalIgnoreCase));
        var (monthAt, rankAt, nameAt) = (Column("month"), Column("rank"), Column("name"));
        if (monthAt < 0 || rankAt < 0 || nameAt < 0)
        {
            throw new InvalidDataException($"{source}: the header has no month, rank and name columns (found: {string.Join(", ", columns)})");
        }
        var lists = new Dictionary<string, List<(DateOnly, int)>>(StringComparer.Ordinal);
        var months = new SortedSet<DateOnly>();
        string? line;
        var number = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }
            var p = line.Split('\t');
            if (p.Length <= Math.Max(monthAt, Math.Max(rankAt, nameAt))
                || !DateOnly.TryParseExact(p[monthAt], "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month)
                || !int.TryParse(p[rankAt], NumberStyles.None, CultureInfo.InvariantCulture, out var rank) || rank < 1
                || p[nameAt].Length == 0)
            {
                throw new InvalidDataException($"{source} line {number}: expected 'YYYY-MM<TAB>rank<TAB>name', got '{line}'");
            }
            var name = SafeHaven.Core.Packages.PackageName.NormalizePyPI(p[nameAt]);
            if (!lists.TryGetValue(name, out var list))
            {
                lists[name] = list = [];
            }
            list.Add((month, rank));
            months.Add(month);
        }
        var byName = lists.ToDictionary(kv => kv.Key, kv => kv.Value.GroupBy(x => x.Item1).Select(g => (Month: g.Key, Rank: g.Min(x => x.Item2))).OrderBy(x => x.Month).ToArray(), StringComparer.Ordinal);
        return new PopularityHistory(byName, [.. months], source);
    }

    /// <summary>The first day after the month's list was complete: the list of month M may be used from the first day of M+1 on.</summary>
    public static DateTimeOffset UsableFrom(DateOnly month) => new(month.AddMonths(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>What the lists said about a (normalised) name using only the months usable at <paramref name="asOf"/>.</summary>
    public PopularitySummary Summarise(string normalizedName, DateTimeOffset asOf)
    {
        var available = _months.Count(m => UsableFrom(m) <= asOf);
        if (!_byName.TryGetValue(normalizedName, out var entries))
        {
            return new PopularitySummary(available, 0, null, null, null);
        }
        int ranked = 0, best = int.MaxValue;
        DateOnly? last = null;
        foreach (var (month, rank) in entries)
        {
            if (UsableFrom(month) > asOf)
            {
                break;
            }
            ranked++;
            best = Math.Min(best, rank);
            last = month;
        }
        if (last is not { } lastMonth)
        {
            return new PopularitySummary(available, 0, null, null, null);
        }
        var end = UsableFrom(lastMonth);
        var since = (asOf.Year - end.Year) * 12 + asOf.Month - end.Month;
        return new PopularitySummary(available, ranked, best, lastMonth, Math.Max(0, since));
    }
}
