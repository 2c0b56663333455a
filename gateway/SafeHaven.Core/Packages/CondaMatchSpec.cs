using System.Diagnostics.CodeAnalysis;

namespace SafeHaven.Core.Packages;

/// <summary>
/// A conda MatchSpec as it appears in repodata <c>depends</c>/<c>constrains</c> and in user specs, parsed the way
/// rattler does in its lenient mode (its default): <c>numpy</c>, <c>numpy &gt;=1.21</c>,
/// <c>python_abi 3.11.* *_cp311</c> (version, then a build-string glob), <c>numpy=1.21</c> (conda's <c>=</c>: starts
/// with 1.21), <c>numpy=1.21=py39_0</c> (exactly 1.21, build py39_0), <c>numpy==1.21.0</c>, a bracket section
/// (<c>numpy[version='&gt;=1.0',build=py*]</c>), and a channel or channel/subdir prefix
/// (<c>conda-forge/linux-64::numpy</c>, kept but not used for matching). Names starting with <c>__</c> are virtual
/// packages (<c>__glibc</c>): the client's machine provides them, a channel never does.
/// Refused with a precise error rather than matched loosely: package URLs and paths, regular-expression build
/// strings, and bracket keys other than <c>version</c>, <c>build</c>, <c>channel</c> and <c>subdir</c>.
/// </summary>
public sealed class CondaMatchSpec
{
    private const int MaxLength = 4096;

    // rattler's platform names: "channel/<platform>" names a subdir, any other "a/b" is a channel path.
    private static readonly HashSet<string> Platforms = new(StringComparer.Ordinal)
    {
        "noarch", "unknown", "linux-32", "linux-64", "linux-aarch64", "linux-armv6l", "linux-armv7l", "linux-loong64",
        "linux-ppc64le", "linux-ppc64", "linux-ppc", "linux-s390x", "linux-riscv32", "linux-riscv64", "freebsd-64",
        "osx-64", "osx-arm64", "win-32", "win-64", "win-arm64", "emscripten-wasm32", "wasi-wasm32", "zos-z",
    };

    private CondaMatchSpec(string text, string name, CondaVersionSpec? version, string? build, string? channel, string? subdir)
    {
        Text = text;
        Name = name;
        Version = version;
        Build = build;
        Channel = channel;
        Subdir = subdir;
    }

    /// <summary>The spec as given (trimmed).</summary>
    public string Text { get; }

    /// <summary>The package name, lower-cased (conda names are case-insensitive).</summary>
    public string Name { get; }

    /// <summary>A virtual package (<c>__glibc</c>, <c>__cuda</c>): provided by the client's machine, never mirrored.</summary>
    public bool IsVirtual => Name.StartsWith("__", StringComparison.Ordinal);

    /// <summary>The version constraint; null matches any version.</summary>
    public CondaVersionSpec? Version { get; }

    /// <summary>The build-string pattern (exact, or a glob with <c>*</c> and <c>?</c>); null matches any build.</summary>
    public string? Build { get; }

    /// <summary>The channel named before <c>::</c> (or in <c>[channel=...]</c>), not used for matching.</summary>
    public string? Channel { get; }

    /// <summary>The subdir named after the channel (<c>conda-forge/linux-64::numpy</c>), not used for matching.</summary>
    public string? Subdir { get; }

    public static CondaMatchSpec Parse(string text) =>
        TryParse(text, out var spec, out var error) ? spec : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out CondaMatchSpec? spec, out string? error)
    {
        spec = null;
        if (text is null)
        {
            error = "a conda MatchSpec is required.";
            return false;
        }
        var trimmed = text.Trim();
        if (trimmed.Length > MaxLength)
        {
            error = $"the conda MatchSpec is longer than {MaxLength} characters.";
            return false;
        }
        if (!TryParseCore(trimmed, out spec, out error))
        {
            error = $"'{trimmed}' is not a valid conda MatchSpec: {error}.";
            return false;
        }
        return true;
    }

    public bool Matches(string name, string version, string build) =>
        CondaVersion.TryParse(version, out var parsed) && Matches(name, parsed, build);

    public bool Matches(string name, CondaVersion version, string build)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(build);
        return string.Equals(Name, name.Trim(), StringComparison.OrdinalIgnoreCase)
            && (Version is null || Version.Matches(version))
            && (Build is null || BuildMatches(Build, build));
    }

    public override string ToString() => Text;

    private static bool TryParseCore(string text, [NotNullWhen(true)] out CondaMatchSpec? spec, [NotNullWhen(false)] out string? error)
    {
        spec = null;
        // 1. A comment after '#'.
        var input = text;
        var hash = input.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            input = input[..hash];
        }
        input = input.Trim();

        // 2. The bracket section at the end: [key=value, ...].
        CondaVersionSpec? version = null;
        string? build = null;
        string? channel = null;
        string? subdir = null;
        var open = input.LastIndexOf('[');
        if (open >= 0 && input.EndsWith(']'))
        {
            if (!TryParseBrackets(input[open..], out var pairs, out error))
            {
                return false;
            }
            input = input[..open].Trim();
            foreach (var (key, value) in pairs)
            {
                switch (key)
                {
                    case "version":
                        if (!CondaVersionSpec.TryParse(value, out version, out var versionError))
                        {
                            error = versionError.TrimEnd('.');
                            return false;
                        }
                        break;
                    case "build":
                        if (!TryValidateBuild(value, out error))
                        {
                            return false;
                        }
                        build = value;
                        break;
                    case "channel":
                        if (!TrySplitChannel(value, out channel, out var channelSubdir, out error))
                        {
                            return false;
                        }
                        subdir ??= channelSubdir;
                        break;
                    case "subdir":
                        subdir = value;
                        break;
                    case "build_number" or "sha256" or "md5" or "fn" or "url":
                        error = $"the bracket key '{key}' is not supported here";
                        return false;
                    default:
                        error = $"unknown bracket key '{key}'";
                        return false;
                }
            }
        }

        // 3. Package URLs and paths are not MatchSpecs a mirror can close over.
        if (!input.Contains("::", StringComparison.Ordinal)
            && (input.Contains("://", StringComparison.Ordinal) || input.StartsWith('/') || input.StartsWith('\\')
                || (input.Length > 2 && char.IsAsciiLetter(input[0]) && input[1] == ':' && input[2] is '\\' or '/')))
        {
            error = "package URLs and file paths are not supported";
            return false;
        }

        // 4. channel:namespace:rest, split from the right (a channel may be a URL with its own ':').
        var colon = input.LastIndexOf(':');
        if (colon >= 0)
        {
            var left = input[..colon];
            input = input[(colon + 1)..];
            var second = left.LastIndexOf(':');
            if (second >= 0)
            {
                var channelText = left[..second].Trim();
                if (!TrySplitChannel(channelText, out var prefixChannel, out var prefixSubdir, out error))
                {
                    return false;
                }
                channel ??= prefixChannel;
                subdir ??= prefixSubdir;
            }
        }

        // 5. The name: everything up to whitespace or an operator.
        input = input.Trim();
        var nameEnd = 0;
        while (nameEnd < input.Length && !char.IsWhiteSpace(input[nameEnd]) && input[nameEnd] is not ('>' or '<' or '=' or '!' or '~'))
        {
            nameEnd++;
        }
        if (nameEnd == 0)
        {
            error = "the package name is missing";
            return false;
        }
        var name = input[..nameEnd];
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            error = $"'{name}' is not a package name (letters, digits, '_', '-' and '.' only)";
            return false;
        }

        // 6. Version and build.
        var rest = input[nameEnd..].Trim();
        if (rest.Length > 0)
        {
            if (rest.Contains('[', StringComparison.Ordinal))
            {
                error = "only one bracket section is allowed, at the end";
                return false;
            }
            if (!TrySplitVersionAndBuild(rest, out var versionText, out var buildText, out error))
            {
                return false;
            }
            versionText = string.Concat(versionText.Where(c => !char.IsWhiteSpace(c)));
            versionText = StripEquals(versionText, buildText);
            if (!CondaVersionSpec.TryParse(versionText, out var inlineVersion, out var versionError))
            {
                error = versionError.TrimEnd('.');
                return false;
            }
            if (buildText is not null && !TryValidateBuild(buildText, out error))
            {
                return false;
            }
            // The bracket section wins over the inline parts, as in rattler.
            version ??= inlineVersion;
            build ??= buildText;
        }

        spec = new CondaMatchSpec(text, name.ToLowerInvariant(), version, build, channel, subdir);
        error = null;
        return true;
    }

    // [key=value, key="value", key='value']
    private static bool TryParseBrackets(string bracket, out List<(string Key, string Value)> pairs, [NotNullWhen(false)] out string? error)
    {
        pairs = [];
        var i = 1;
        var end = bracket.Length - 1;
        SkipWhitespace(bracket, ref i, end);
        while (i < end)
        {
            var keyStart = i;
            while (i < end && (char.IsLetterOrDigit(bracket[i]) || bracket[i] is '_' or '-'))
            {
                i++;
            }
            var key = bracket[keyStart..i];
            SkipWhitespace(bracket, ref i, end);
            if (i >= end || bracket[i] != '=')
            {
                error = $"expected '=' after '{key}' in the bracket section";
                return false;
            }
            i++;
            SkipWhitespace(bracket, ref i, end);
            string value;
            if (i < end && bracket[i] is '"' or '\'')
            {
                var quote = bracket[i];
                var close = bracket.IndexOf(quote, i + 1);
                if (close < 0 || close > end)
                {
                    error = $"unterminated {quote} in the bracket section";
                    return false;
                }
                value = bracket[(i + 1)..close];
                i = close + 1;
            }
            else
            {
                var valueStart = i;
                while (i < end && bracket[i] is not (',' or '\'' or '"'))
                {
                    i++;
                }
                if (i == valueStart)
                {
                    error = $"the bracket key '{key}' has no value";
                    return false;
                }
                value = bracket[valueStart..i].Trim();
            }
            pairs.Add((key, value));
            SkipWhitespace(bracket, ref i, end);
            if (i < end)
            {
                if (bracket[i] != ',')
                {
                    error = $"expected ',' or ']' in the bracket section, found '{bracket[i]}'";
                    return false;
                }
                i++;
                SkipWhitespace(bracket, ref i, end);
                if (i >= end)
                {
                    error = "a bracket section cannot end with ','";
                    return false;
                }
            }
        }
        error = null;
        return true;
    }

    private static void SkipWhitespace(string text, ref int i, int end)
    {
        while (i < end && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
    }

    private static bool TrySplitChannel(string text, out string? channel, out string? subdir, [NotNullWhen(false)] out string? error)
    {
        channel = null;
        subdir = null;
        if (text.Length == 0 || text.Any(char.IsWhiteSpace))
        {
            error = text.Length == 0 ? "the channel before '::' is empty" : $"the channel '{text}' contains whitespace";
            return false;
        }
        var slash = text.LastIndexOf('/');
        if (slash > 0 && Platforms.Contains(text[(slash + 1)..]))
        {
            channel = text[..slash];
            subdir = text[(slash + 1)..];
        }
        else
        {
            channel = text;
        }
        error = null;
        return true;
    }

    // A build string is matched exactly, or as a glob when it has a '*' (as rattler's glob patterns: '*' any run of
    // characters, '?' any one character; a '[' class cannot reach here, the bracket section takes the last '[').
    private static bool TryValidateBuild(string build, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (build.StartsWith('^'))
        {
            error = $"the build '{build}' is a regular expression, which is not supported";
        }
        else if (build.Contains("**", StringComparison.Ordinal) && build != "**")
        {
            error = $"the build glob '{build}' has '**' inside a pattern (an invalid glob)";
        }
        return error is null;
    }

    private static bool BuildMatches(string pattern, string build) =>
        pattern.Contains('*', StringComparison.Ordinal) ? GlobMatches(pattern, build) : string.Equals(pattern, build, StringComparison.Ordinal);

    private static bool GlobMatches(string pattern, string text)
    {
        // Iterative wildcard matching with one backtrack point per '*'.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }

    /// <summary>
    /// rattler's lenient split of "version build": either conda's "=version" form (optionally followed by a glob) or
    /// a group of constraints joined by ',' and '|' (with parentheses), then an optional ' ' or '=' and the build.
    /// </summary>
    private static bool TrySplitVersionAndBuild(string input, out string version, out string? build, [NotNullWhen(false)] out string? error)
    {
        version = "";
        build = null;
        var end = SpecialEqualityEnd(input);
        if (end < 0)
        {
            var position = 0;
            if (!TryRecognizeGroup(input, ref position, out error))
            {
                error = $"cannot read a version in '{input}': {error}";
                return false;
            }
            end = position;
        }
        version = input[..end].Trim();
        if (end < input.Length && input[end] is ' ' or '=')
        {
            end++;
        }
        var rest = input[end..].Trim();
        build = rest.Length == 0 ? null : rest;
        error = null;
        return true;
    }

    // "=1.2", "=1.2.*", "=1.2*", "=*": the end of that prefix, or -1.
    private static int SpecialEqualityEnd(string input)
    {
        if (input.Length < 2 || input[0] != '=')
        {
            return -1;
        }
        var position = 1;
        if (CondaVersionSyntax.TryRecognizeVersion(input, ref position, out _))
        {
            if (position < input.Length && input[position] == '*')
            {
                position++;
            }
            else if (position + 1 < input.Length && input[position] == '.' && input[position + 1] == '*')
            {
                position += 2;
            }
            return position;
        }
        return input[1] == '*' ? 2 : -1;
    }

    private static bool TryRecognizeGroup(string input, ref int position, [NotNullWhen(false)] out string? error)
    {
        while (true)
        {
            if (!TryRecognizeConstraintOrGroup(input, ref position, out error))
            {
                return false;
            }
            var next = position;
            while (next < input.Length && char.IsWhiteSpace(input[next]))
            {
                next++;
            }
            if (next >= input.Length || input[next] is not (',' or '|'))
            {
                return true;
            }
            next++;
            while (next < input.Length && char.IsWhiteSpace(input[next]))
            {
                next++;
            }
            position = next;
        }
    }

    private static bool TryRecognizeConstraintOrGroup(string input, ref int position, [NotNullWhen(false)] out string? error)
    {
        if (position < input.Length && input[position] == '(')
        {
            var inner = position + 1;
            if (TryRecognizeGroup(input, ref inner, out error) && inner < input.Length && input[inner] == ')')
            {
                position = inner + 1;
                return true;
            }
            error ??= $"expected ')' at position {inner + 1}";
            return false;
        }
        if (position < input.Length && input[position] == '*')
        {
            position++;
            if (string.CompareOrdinal(input, position, ".*", 0, 2) == 0)
            {
                position += 2;
            }
            error = null;
            return true;
        }
        // Optional operator (whitespace allowed around it here: the spaces are dropped before the version is read).
        var at = position;
        while (at < input.Length && char.IsWhiteSpace(input[at]))
        {
            at++;
        }
        var op = CondaVersionSyntax.OperatorAt(input, at);
        if (op is not null)
        {
            at += op.Length;
            while (at < input.Length && char.IsWhiteSpace(input[at]))
            {
                at++;
            }
            position = at;
        }
        if (CondaVersionSyntax.TryRecognizeVersion(input, ref position, out error))
        {
            CondaVersionSyntax.SkipGlobTail(input, ref position);
            return true;
        }
        error ??= position < input.Length ? $"expected a version at position {position + 1}, found '{input[position]}'" : "expected a version at the end";
        return false;
    }

    /// <summary>
    /// rattler's legacy handling of a leading '=' (lenient mode): "==v" without a build is "v"; "=v" without a build
    /// is "v*" (starts with); "=v" with a build is "v"; groups ("=1|=2") are left as they are.
    /// </summary>
    private static string StripEquals(string version, string? build)
    {
        if (!version.StartsWith('='))
        {
            return version;
        }
        var withoutEquals = version[1..];
        if (withoutEquals.StartsWith('=') && build is null)
        {
            return withoutEquals[1..];
        }
        if (withoutEquals.IndexOfAny(['=', ',', '|']) >= 0)
        {
            return version;
        }
        return build is null && !withoutEquals.EndsWith('*') ? withoutEquals + "*" : withoutEquals;
    }
}
