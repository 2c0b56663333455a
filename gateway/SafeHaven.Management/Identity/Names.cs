using System.Text.RegularExpressions;

namespace SafeHaven.Management.Identity;

/// <summary>
/// The strict shapes of every name the management API accepts. Anything else (quotes, spaces, slashes, SQL or
/// shell metacharacters, control characters, non-ASCII look-alikes) is refused before it reaches storage or a log.
/// </summary>
public static partial class Names
{
    public static readonly IReadOnlyList<string> Ecosystems = ["pypi", "cran", "nuget", "conda", "apt"];

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserPattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}(\[[A-Za-z0-9._-]{1,64}(,[A-Za-z0-9._-]{1,64}){0,31}\])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PackageEntryPattern();

    public const string UserRule = "1 to 128 characters: letters, digits and . _ @ -, starting with a letter or digit";
    public const string ProjectRule = "1 to 63 characters: lower-case letters, digits and -, starting with a letter or digit";
    public const string PackageRule = "a package name (letters, digits and . _ + -, up to 200 characters), optionally with [extra,...]";
    public const string TextRule = "1 to 2000 characters, no control characters other than line breaks";

    public static bool IsUserName(string? value) => value is not null && UserPattern().IsMatch(value);

    public static bool IsProjectName(string? value) => value is not null && ProjectPattern().IsMatch(value);

    public static bool IsPackageEntry(string? value) => value is not null && PackageEntryPattern().IsMatch(value);

    public static bool IsEcosystem(string? value) => value is not null && Ecosystems.Contains(value, StringComparer.Ordinal);

    /// <summary>Free text (reasons, titles): present, bounded, printable.</summary>
    public static bool IsText(string? value, int maximum = 2000) =>
        !string.IsNullOrWhiteSpace(value) && value.Length <= maximum && !value.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'));
}
