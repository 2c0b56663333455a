namespace SafeHaven.Core.Packages;

/// <summary>One PEP 440 version clause, such as <c>&gt;=1.2</c>, <c>~=2.0</c> or <c>==3.*</c>.</summary>
public sealed class Pep440Specifier
{
    private static readonly string[] Operators = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

    private Pep440Specifier(string op, string versionText, Pep440Version? version, bool wildcard)
    {
        Operator = op;
        VersionText = versionText;
        Version = version;
        IsWildcard = wildcard;
    }

    public string Operator { get; }
    public string VersionText { get; }
    public Pep440Version? Version { get; }
    public bool IsWildcard { get; }

    public static Pep440Specifier Parse(string text)
    {
        var trimmed = text.Trim();
        foreach (var op in Operators)
        {
            if (!trimmed.StartsWith(op, StringComparison.Ordinal))
            {
                continue;
            }
            var versionText = trimmed[op.Length..].Trim();
            if (versionText.Length == 0)
            {
                break;
            }
            if (op == "===")
            {
                // Arbitrary equality: any string without whitespace.
                if (versionText.Any(char.IsWhiteSpace))
                {
                    break;
                }
                return new Pep440Specifier(op, versionText, null, false);
            }
            var wildcard = versionText.EndsWith(".*", StringComparison.Ordinal);
            if (wildcard && op is not ("==" or "!="))
            {
                break;
            }
            var core = wildcard ? versionText[..^2] : versionText;
            if (core.Length == 0 || char.IsWhiteSpace(core[^1]) || !Pep440Version.TryParse(core, out var version))
            {
                break;
            }
            // PEP 440: local labels only in non-wildcard == and != clauses.
            if (version.HasLocal && (wildcard || op is not ("==" or "!=")))
            {
                break;
            }
            if (op == "~=" && version.Release.Count < 2)
            {
                break;
            }
            return new Pep440Specifier(op, versionText, version, wildcard);
        }
        throw new FormatException($"'{text}' is not a valid PEP 440 version specifier.");
    }

    /// <summary>Whether the clause names a pre-release, which lets the set match pre-releases.</summary>
    public bool MentionsPrerelease => Version?.IsPrerelease == true && Operator is not "!=";

    public bool IsSatisfiedBy(Pep440Version candidate)
    {
        if (Operator == "===")
        {
            return string.Equals(candidate.ToString(), VersionText, StringComparison.OrdinalIgnoreCase);
        }
        var spec = Version!;
        switch (Operator)
        {
            case "==":
                return IsWildcard ? PrefixMatches(candidate, spec) : EqualsIgnoringLocal(candidate, spec);
            case "!=":
                return IsWildcard ? !PrefixMatches(candidate, spec) : !EqualsIgnoringLocal(candidate, spec);
            case "<=":
                return candidate.Public <= spec;
            case ">=":
                return candidate.Public >= spec;
            case "<":
                // Exclusive: never a pre-release of the named version unless it is one itself.
                return candidate.Public < spec
                    && (spec.IsPrerelease || !candidate.IsPrerelease || !candidate.BaseVersion.Equals(spec.BaseVersion));
            case ">":
                // Exclusive: never a post-release or local version of the named version.
                if (candidate.Public <= spec)
                {
                    return false;
                }
                if (!spec.IsPostRelease && candidate.IsPostRelease && candidate.BaseVersion.Equals(spec.BaseVersion))
                {
                    return false;
                }
                return !(candidate.HasLocal && candidate.BaseVersion.Equals(spec.BaseVersion));
            case "~=":
                // ~=X.Y.Z means >=X.Y.Z, ==X.Y.*
                var prefix = spec.Release.Take(spec.Release.Count - 1).ToArray();
                return candidate.Public >= spec && ReleasePrefixMatches(candidate, spec.Epoch, prefix);
            default:
                return false;
        }
    }

    private static bool EqualsIgnoringLocal(Pep440Version candidate, Pep440Version spec) =>
        spec.HasLocal ? candidate.Equals(spec) : candidate.Public.Equals(spec);

    private static bool PrefixMatches(Pep440Version candidate, Pep440Version spec)
    {
        // ==1.2.* matches any version whose release starts with 1.2 (padded with zeros).
        return ReleasePrefixMatches(candidate, spec.Epoch, spec.Release);
    }

    private static bool ReleasePrefixMatches(Pep440Version candidate, long epoch, IReadOnlyList<long> prefix)
    {
        if (candidate.Epoch != epoch)
        {
            return false;
        }
        for (var i = 0; i < prefix.Count; i++)
        {
            var part = i < candidate.Release.Count ? candidate.Release[i] : 0;
            if (part != prefix[i])
            {
                return false;
            }
        }
        return true;
    }

    public override string ToString() => Operator + VersionText;
}

/// <summary>A comma-separated set of PEP 440 clauses; all must hold.</summary>
public sealed class Pep440SpecifierSet
{
    public static readonly Pep440SpecifierSet Any = new([]);

    public Pep440SpecifierSet(IReadOnlyList<Pep440Specifier> specifiers) => Specifiers = specifiers;

    public IReadOnlyList<Pep440Specifier> Specifiers { get; }

    public static Pep440SpecifierSet Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Any;
        }
        return new Pep440SpecifierSet(text.Split(',').Select(Pep440Specifier.Parse).ToArray());
    }

    public bool IsSatisfiedBy(Pep440Version version) => Specifiers.All(s => s.IsSatisfiedBy(version));

    /// <summary>
    /// Filters candidates the way installers do: pre-releases only when a clause names one,
    /// or when nothing else matches.
    /// </summary>
    public IEnumerable<Pep440Version> Filter(IEnumerable<Pep440Version> candidates)
    {
        var matching = candidates.Where(IsSatisfiedBy).ToList();
        if (Specifiers.Any(s => s.MentionsPrerelease))
        {
            return matching;
        }
        var finals = matching.Where(v => !v.IsPrerelease).ToList();
        return finals.Count > 0 ? finals : matching;
    }

    public override string ToString() => string.Join(',', Specifiers);
}
