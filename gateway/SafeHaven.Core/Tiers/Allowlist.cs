namespace SafeHaven.Core.Tiers;

/// <summary>
/// One approved entry: a package name and, for PyPI, extras whose dependencies are approved too. <see cref="Constraint"/>
/// (written <c>name@constraint</c>, e.g. NuGet's <c>Id@[1.0,2.0)</c>) limits which versions' dependencies the closure
/// follows; empty means every version the tier shows. Its syntax is the ecosystem's own.
/// </summary>
public sealed record AllowlistEntry(string Name, IReadOnlySet<string> Extras, string Constraint = "");

/// <summary>
/// A Tier 3+ list of approved packages: one name per line, <c>#</c> starts a comment, blank lines ignored.
/// PyPI entries may name extras as <c>name[extra1,extra2]</c>; an entry may name a version constraint after <c>@</c>
/// (<c>Id@[1.0,2.0)</c> for NuGet). A name listed twice keeps the union of its extras and the first constraint.
/// </summary>
public sealed class Allowlist
{
    public static readonly Allowlist Empty = new([]);

    public Allowlist(IReadOnlyList<AllowlistEntry> entries) => Entries = entries;

    public IReadOnlyList<AllowlistEntry> Entries { get; }

    public static Allowlist Parse(IEnumerable<string> lines, Func<string, string> normalize)
    {
        var byName = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var constraints = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        var lineNumber = 0;
        foreach (var raw in lines)
        {
            lineNumber++;
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var constraint = "";
            var at = line.IndexOf('@', StringComparison.Ordinal);
            if (at >= 0)
            {
                constraint = line[(at + 1)..].Trim();
                line = line[..at].Trim();
                if (constraint.Length == 0)
                {
                    throw new FormatException($"line {lineNumber}: '{raw}' has an empty version constraint after '@'.");
                }
            }
            var extras = new HashSet<string>(StringComparer.Ordinal);
            var bracket = line.IndexOf('[', StringComparison.Ordinal);
            var name = line;
            if (bracket >= 0)
            {
                if (!line.EndsWith(']'))
                {
                    throw new FormatException($"line {lineNumber}: '{raw}' has an unclosed '['.");
                }
                name = line[..bracket].Trim();
                foreach (var extra in line[(bracket + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!extra.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                    {
                        throw new FormatException($"line {lineNumber}: '{raw}' names an extra '{extra}' that is not a valid extra name.");
                    }
                    extras.Add(normalize(extra));
                }
            }
            // Names in every mirrored ecosystem (PyPI, CRAN, NuGet, conda, Debian) use letters, digits and . _ - +;
            // anything else (a version constraint, a URL, a marker) would be an entry that silently never matches.
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+'))
            {
                throw new FormatException($"line {lineNumber}: '{raw}' is not a package name (one name per line, optionally with [extras] and @constraint).");
            }
            var key = normalize(name);
            if (!byName.TryGetValue(key, out var existing))
            {
                byName[key] = existing = new HashSet<string>(StringComparer.Ordinal);
                order.Add(key);
                constraints[key] = constraint;
            }
            existing.UnionWith(extras);
        }
        return new Allowlist(order.Select(n => new AllowlistEntry(n, byName[n], constraints[n])).ToList());
    }

    public static Allowlist Load(string path, Func<string, string> normalize)
    {
        try
        {
            return Parse(File.ReadLines(path), normalize);
        }
        catch (FormatException e)
        {
            throw new FormatException($"Allowlist {path}: {e.Message}", e);
        }
    }
}
