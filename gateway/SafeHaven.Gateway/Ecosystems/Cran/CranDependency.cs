using System.Collections.Frozen;
using System.Text.RegularExpressions;
using SafeHaven.Core.Packages;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>One entry of a <c>Depends</c>, <c>Imports</c> or <c>LinkingTo</c> field: <c>name</c> or <c>name (op version)</c>.</summary>
public sealed record CranDependency(string Name, string? Operator, RVersion? Bound)
{
    /// <summary>The constraint as the closure carries it (<c>&gt;= 1.2</c>), or empty.</summary>
    public string Constraint => Operator is null ? "" : $"{Operator} {Bound}";

    public bool IsSatisfiedBy(RVersion version) => Operator is null || version.Satisfies(Operator, Bound!);

    public override string ToString() => Operator is null ? Name : $"{Name} ({Operator} {Bound})";
}

/// <summary>Parsing of R dependency fields, and the packages that come with R itself.</summary>
public static partial class CranDependencies
{
    /// <summary>The fields R installs dependencies from by default (<c>dependencies = NA</c>); not <c>Suggests</c>.</summary>
    public static readonly string[] Fields = ["Depends", "Imports", "LinkingTo"];

    /// <summary>
    /// Packages every R installation has (priority base and recommended, from R's own
    /// <c>installed.packages(priority = c("base", "recommended"))</c>): never part of a closure, never required in
    /// the index. <c>R</c> itself is a constraint on the interpreter, not a package.
    /// </summary>
    public static readonly FrozenSet<string> BaseAndRecommended = new[]
    {
        "R",
        "base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel", "splines", "stats",
        "stats4", "tcltk", "tools", "utils",
        "boot", "class", "cluster", "codetools", "foreign", "KernSmooth", "lattice", "MASS", "Matrix", "mgcv", "nlme",
        "nnet", "rpart", "spatial", "survival",
    }.ToFrozenSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^(?<name>[A-Za-z][A-Za-z0-9.]*)\s*(?:\(\s*(?<op>>=|<=|==|!=|>|<)\s*(?<version>[0-9][0-9.\-]*)\s*\))?$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Entry();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex PackageNamePattern();

    /// <summary>Whether <paramref name="name"/> is a valid R package name (letters, digits, dots; starts with a letter).</summary>
    public static bool IsValidName(string name) => name.Length <= 256 && PackageNamePattern().IsMatch(name);

    /// <summary>Parses one field's value; throws <see cref="FormatException"/> on an entry R would not accept.</summary>
    public static IReadOnlyList<CranDependency> Parse(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return [];
        }
        var result = new List<CranDependency>();
        foreach (var raw in field.Split(','))
        {
            var entry = Regex.Replace(raw, @"\s+", " ").Trim();
            if (entry.Length == 0)
            {
                continue;
            }
            var match = Entry().Match(entry);
            if (!match.Success)
            {
                throw new FormatException($"'{entry}' is not a dependency ('name' or 'name (op version)')");
            }
            RVersion? bound = null;
            if (match.Groups["op"].Success && !RVersion.TryParse(match.Groups["version"].Value, out bound))
            {
                throw new FormatException($"'{entry}' has an invalid version");
            }
            result.Add(new CranDependency(match.Groups["name"].Value, match.Groups["op"].Success ? match.Groups["op"].Value : null, bound));
        }
        return result;
    }

    /// <summary>The package dependencies of a record that an R installation needs from the repository (base, recommended and R excluded).</summary>
    public static IReadOnlyList<CranDependency> Required(DcfRecord record) =>
        Fields.SelectMany(f => Parse(record[f])).Where(d => !BaseAndRecommended.Contains(d.Name)).ToList();
}
