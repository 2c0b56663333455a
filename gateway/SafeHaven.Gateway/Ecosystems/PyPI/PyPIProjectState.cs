using System.Globalization;
using SafeHaven.Core.Packages;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>One upstream file with what the policy needs, derived once per fetched page.</summary>
public sealed record PyPIFileEntry(PyPIFile File, string? Version, Pep440Version? ParsedVersion, DateTimeOffset? Uploaded);

/// <summary>An upstream project page as last fetched, with per-file facts derived once. Immutable.</summary>
public sealed class PyPIProjectState
{
    public PyPIProjectState(string normalizedName, PyPIProject project, DateTimeOffset fetchedAt)
    {
        NormalizedName = normalizedName;
        Project = project;
        FetchedAt = fetchedAt;
        Entries = project.Files.Select(file =>
        {
            var version = DistributionFilename.TryGetVersion(file.Filename, normalizedName);
            Pep440Version.TryParse(version, out var parsed);
            return new PyPIFileEntry(file, parsed?.ToString() ?? version, parsed, ParseUploadTime(file.UploadTime));
        }).ToList();
        ByFilename = Entries.GroupBy(e => e.File.Filename, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    public string NormalizedName { get; }
    public PyPIProject Project { get; }
    public DateTimeOffset FetchedAt { get; }
    public IReadOnlyList<PyPIFileEntry> Entries { get; }
    public IReadOnlyDictionary<string, PyPIFileEntry> ByFilename { get; }

    /// <summary>Approximate memory footprint, for the cache's size limit.</summary>
    public long EstimatedSize => 512 + Entries.Count * 512L;

    public static DateTimeOffset? ParseUploadTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : null;
}
