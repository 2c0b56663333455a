using System.Text.Json;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Fills a <see cref="PackageMetadataRecord"/> from a PEP 691 simple-API JSON project page
/// (<c>application/vnd.pypi.simple.v1+json</c>: <c>name</c>, <c>versions</c> (API 1.1), <c>files</c> with <c>upload-time</c> (PEP 700)).
/// The simple API carries no summary, licence or links: those stay unknown unless core metadata is merged in.
/// </summary>
public static class PyPISimpleExtractor
{
    public static PackageMetadataRecord Extract(string json, DateTimeOffset? observedAt = null)
    {
        using var doc = JsonHelpers.ParseDocument(json, "PyPI simple JSON page");
        var root = doc.RootElement;
        var name = root.Str("name") ?? throw new FormatException("PyPI simple JSON page has no name.");
        var normalized = SafeHaven.Core.Packages.PackageName.NormalizePyPI(name);

        var uploads = new Dictionary<string, (DateTimeOffset? First, bool AllYanked)>(StringComparer.OrdinalIgnoreCase);
        if (root.Prop("files") is { ValueKind: JsonValueKind.Array } files)
        {
            foreach (var file in files.EnumerateArray())
            {
                var filename = file.Str("filename");
                var version = filename is null ? null : VersionFromFilename(filename, normalized);
                if (version is null)
                {
                    continue;
                }
                var uploaded = file.Date("upload-time");
                var yanked = file.Prop("yanked") is { } y && (y.ValueKind == JsonValueKind.True || y.ValueKind == JsonValueKind.String);
                if (uploads.TryGetValue(version, out var seen))
                {
                    var first = seen.First is null || (uploaded is not null && uploaded < seen.First) ? uploaded ?? seen.First : seen.First;
                    uploads[version] = (first, seen.AllYanked && yanked);
                }
                else
                {
                    uploads[version] = (uploaded, yanked);
                }
            }
        }

        var versionNames = root.Prop("versions") is { ValueKind: JsonValueKind.Array } listed
            ? listed.EnumerateArray().Select(v => v.GetString()).OfType<string>().ToList()
            : uploads.Keys.ToList();
        var versions = versionNames
            .Select(v => uploads.TryGetValue(v, out var u) ? new ReleaseInfo(v, u.First, u.AllYanked) : new ReleaseInfo(v, null))
            .ToList();

        var record = new PackageMetadataRecord
        {
            Name = name,
            Ecosystem = Ecosystem.PyPI,
            ObservedAt = observedAt,
            Versions = versions,
        };
        return record.WithDerivedReleaseFacts(versionListIsComplete: true);
    }

    /// <summary>
    /// The version encoded in a distribution filename: wheels and eggs <c>{name}-{version}-...</c>,
    /// sdists <c>{name}-{version}.tar.gz|.zip|.tar.bz2</c>. Null when the filename is not recognised.
    /// </summary>
    public static string? VersionFromFilename(string filename, string normalizedName)
    {
        string stem;
        var isWheelLike = false;
        if (filename.EndsWith(".whl", StringComparison.OrdinalIgnoreCase) || filename.EndsWith(".egg", StringComparison.OrdinalIgnoreCase))
        {
            stem = filename[..filename.LastIndexOf('.')];
            isWheelLike = true;
        }
        else
        {
            string[] extensions = [".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar"];
            var ext = extensions.FirstOrDefault(e => filename.EndsWith(e, StringComparison.OrdinalIgnoreCase));
            if (ext is null)
            {
                return null;
            }
            stem = filename[..^ext.Length];
        }
        if (isWheelLike)
        {
            var parts = stem.Split('-');
            return parts.Length >= 2 ? parts[1] : null;
        }
        // sdist: the name may itself contain '-', so find the split whose prefix normalises to the project name.
        for (var i = stem.IndexOf('-', StringComparison.Ordinal); i > 0; i = stem.IndexOf('-', i + 1))
        {
            if (SafeHaven.Core.Packages.PackageName.NormalizePyPI(stem[..i]) == normalizedName)
            {
                return stem[(i + 1)..];
            }
        }
        var last = stem.LastIndexOf('-');
        return last > 0 ? stem[(last + 1)..] : null;
    }
}
