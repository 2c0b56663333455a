using SafeHaven.Core.Packages;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>The version a distribution file belongs to, read from its name (wheel, sdist or egg).</summary>
public static class DistributionFilename
{
    private static readonly string[] SdistExtensions = [".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tar", ".tgz", ".tbz"];

    public static bool IsWheel(string filename) => filename.EndsWith(".whl", StringComparison.OrdinalIgnoreCase);

    public static bool IsSdist(string filename) => SdistExtensions.Any(e => filename.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>The version string in the filename, or null when the name does not belong to the project.</summary>
    public static string? TryGetVersion(string filename, string normalizedProject)
    {
        if (IsWheel(filename))
        {
            // {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
            var parts = filename[..^4].Split('-');
            if (parts.Length is not (5 or 6) || PackageName.NormalizePyPI(parts[0]) != normalizedProject)
            {
                return null;
            }
            return parts[1];
        }
        string stem;
        if (filename.EndsWith(".egg", StringComparison.OrdinalIgnoreCase))
        {
            // {name}-{version}-py{X.Y}(-{platform})?.egg
            var parts = filename[..^4].Split('-');
            return parts.Length >= 3 && PackageName.NormalizePyPI(parts[0]) == normalizedProject ? parts[1] : null;
        }
        var extension = SdistExtensions.FirstOrDefault(e => filename.EndsWith(e, StringComparison.OrdinalIgnoreCase));
        if (extension is null)
        {
            return null;
        }
        stem = filename[..^extension.Length];
        // The project name itself may contain '-': find the split whose prefix normalises to the project.
        for (var i = stem.IndexOf('-', StringComparison.Ordinal); i > 0; i = stem.IndexOf('-', i + 1))
        {
            if (PackageName.NormalizePyPI(stem[..i]) == normalizedProject)
            {
                var version = stem[(i + 1)..];
                return version.Length > 0 ? version : null;
            }
        }
        return null;
    }
}
