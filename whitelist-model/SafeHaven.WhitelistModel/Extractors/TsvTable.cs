namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>A tab-separated table with a header row; cells are trimmed, a blank cell reads as null.</summary>
public sealed class TsvTable
{
    private readonly Dictionary<string, int> _columns;

    private TsvTable(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        Header = header;
        Rows = rows;
        _columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++)
        {
            _columns.TryAdd(header[i], i);
        }
    }

    public IReadOnlyList<string> Header { get; }

    public IReadOnlyList<string[]> Rows { get; }

    public bool HasColumn(string column) => _columns.ContainsKey(column);

    /// <summary>The cell of a row, or null when the column is absent or the cell blank.</summary>
    public string? Get(string[] row, string column) =>
        _columns.TryGetValue(column, out var i) && i < row.Length && !string.IsNullOrWhiteSpace(row[i]) ? row[i].Trim() : null;

    public static TsvTable Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var headerLine = reader.ReadLine() ?? throw new FormatException("the TSV input is empty: a header row is required.");
        var header = headerLine.TrimStart('\uFEFF').Split('\t').Select(h => h.Trim()).ToList();
        var rows = new List<string[]>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0)
            {
                continue;
            }
            rows.Add(line.Split('\t'));
        }
        return new TsvTable(header, rows);
    }

    /// <summary>Escapes a value for a TSV cell: tabs and line breaks become spaces.</summary>
    public static string Cell(string? value) =>
        value is null ? string.Empty : value.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');
}
