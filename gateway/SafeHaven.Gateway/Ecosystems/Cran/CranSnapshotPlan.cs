using System.Runtime.CompilerServices;
using System.Text;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>
/// What a CRAN snapshot holds: <c>src/contrib/PACKAGES</c> and <c>PACKAGES.gz</c> as the mirror renders them (after
/// policy), and the tarballs <c>PACKAGES</c> names: <c>src/contrib/&lt;Package&gt;_&lt;Version&gt;.tar.gz</c>, or below
/// the record's <c>Path:</c> (archived versions: <c>Archive/&lt;Package&gt;/</c>). <c>PACKAGES.rds</c> is not captured:
/// the mirror answers it with a deliberate 404, which R falls back from to <c>PACKAGES.gz</c>.
/// </summary>
public sealed class CranSnapshotPlan : ISnapshotPlan
{
    public const string PackagesPath = "src/contrib/PACKAGES";
    public const string PackagesGzPath = "src/contrib/PACKAGES.gz";

    public string Ecosystem => CranMirror.Ecosystem;

    /// <summary>Nothing to prepare: capture reads <c>PACKAGES</c> through the mirror, which revalidates it upstream.</summary>
    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public IEnumerable<SnapshotRequest> Roots(SnapshotScope scope) =>
        [SnapshotPlanRules.Document(PackagesPath), SnapshotPlanRules.Document(PackagesGzPath)];

    public async IAsyncEnumerable<SnapshotRequest> LinksAsync(
        SnapshotRequest captured, Stream document, SnapshotScope scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // PACKAGES.gz holds the same records; only the plain file is read.
        if (captured.Path != PackagesPath)
        {
            yield break;
        }
        using var reader = new StreamReader(document, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
        await foreach (var record in ReadRecordsAsync(reader, cancellationToken).ConfigureAwait(false))
        {
            if (scope.WantsArtifactsOf(record.Package))
            {
                yield return SnapshotPlanRules.Artifact(TarballPath(record));
            }
        }
    }

    /// <summary>The one <c>PACKAGES</c> record fields a tarball's place depends on.</summary>
    public sealed record PackagesRecord(string Package, string Version, string? Path);

    /// <summary>The wire path (below <c>/cran/</c>) of a record's tarball.</summary>
    public static string TarballPath(PackagesRecord record)
    {
        var file = $"{record.Package}_{record.Version}.tar.gz";
        var relative = string.IsNullOrEmpty(record.Path) ? file : $"{record.Path.Trim('/')}/{file}";
        if (relative.Split('/').Any(s => s is "" or "." or ".."))
        {
            throw new InvalidDataException($"PACKAGES names a tarball outside src/contrib: '{relative}'");
        }
        return "src/contrib/" + SnapshotPlanRules.EscapePath(relative);
    }

    /// <summary>
    /// Reads DCF records line by line (memory holds one record's three fields, never the file). A record without
    /// <c>Package</c> or <c>Version</c> fails the capture: the mirror wrote it, so it is a defect, not upstream noise.
    /// </summary>
    public static async IAsyncEnumerable<PackagesRecord> ReadRecordsAsync(TextReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? package = null, version = null, path = null;
        var any = false;
        var lineNumber = 0;
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            lineNumber++;
            if (line is null || line.Trim().Length == 0)
            {
                if (any)
                {
                    if (package is null || version is null)
                    {
                        throw new InvalidDataException($"PACKAGES record ending at line {lineNumber} has no {(package is null ? "Package" : "Version")} field");
                    }
                    yield return new PackagesRecord(package, version, path);
                }
                if (line is null)
                {
                    yield break;
                }
                (package, version, path, any) = (null, null, null, false);
                continue;
            }
            any = true;
            if (line[0] is ' ' or '\t')
            {
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidDataException($"PACKAGES line {lineNumber} is not a 'Field: value' line");
            }
            var value = line[(colon + 1)..].Trim();
            switch (line[..colon])
            {
                case "Package":
                    package = value;
                    break;
                case "Version":
                    version = value;
                    break;
                case "Path":
                    path = value;
                    break;
            }
        }
    }
}
