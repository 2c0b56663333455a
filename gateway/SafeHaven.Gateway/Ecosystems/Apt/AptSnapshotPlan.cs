using System.Runtime.CompilerServices;
using System.Text;
using SafeHaven.Core.Catalog;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>
/// What an apt snapshot holds: the appliance's public key (<c>safehaven-archive-key.asc</c>), and per configured
/// repository and suite <c>dists/&lt;suite&gt;/InRelease</c>, <c>Release</c>, <c>Release.gpg</c>, every index file the
/// <c>Release</c> lists (its <c>SHA256:</c> section) and, as the published Release says <c>Acquire-By-Hash: yes</c>, the
/// same files under <c>by-hash/SHA256/</c>; prefetching, the <c>pool/</c> files each <c>Packages</c> names by
/// <c>Filename:</c>. Files are read line by line, never whole. <see cref="PrepareAsync"/> runs the apt refresh first and
/// fails if any suite failed.
/// </summary>
public sealed class AptSnapshotPlan(AptMirror mirror, IEnumerable<IRepositoryRefresh> refreshes, TimeProvider time) : ISnapshotPlan
{
    public const string KeyPath = "safehaven-archive-key.asc";

    public string Ecosystem => AptMirror.Ecosystem;

    public Task PrepareAsync(CancellationToken cancellationToken) =>
        SnapshotPlanRules.RefreshOrThrowAsync(refreshes, Ecosystem, time, mirror.Status, cancellationToken);

    public IEnumerable<SnapshotRequest> Roots(SnapshotScope scope)
    {
        yield return SnapshotPlanRules.Document(KeyPath);
        foreach (var repository in mirror.Repositories.Values.OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            foreach (var suite in repository.Suites)
            {
                var dists = $"{Uri.EscapeDataString(repository.Name)}/dists/{SnapshotPlanRules.EscapePath(suite)}/";
                yield return SnapshotPlanRules.Document(dists + "InRelease");
                yield return SnapshotPlanRules.Document(dists + "Release");
                yield return SnapshotPlanRules.Document(dists + "Release.gpg");
            }
        }
    }

    public async IAsyncEnumerable<SnapshotRequest> LinksAsync(
        SnapshotRequest captured, Stream document, SnapshotScope scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = captured.Path;
        var dists = path.IndexOf("/dists/", StringComparison.Ordinal);
        if (dists <= 0)
        {
            yield break;
        }
        var repository = path[..dists];
        using var reader = new StreamReader(document, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
        if (path.EndsWith("/Release", StringComparison.Ordinal))
        {
            var suiteDirectory = path[..^"Release".Length];
            await foreach (var link in ReleaseLinksAsync(reader, suiteDirectory, cancellationToken).ConfigureAwait(false))
            {
                yield return link;
            }
        }
        else if (path.EndsWith("/Packages", StringComparison.Ordinal) && !path.Contains("/by-hash/", StringComparison.Ordinal) && scope.Prefetch)
        {
            await foreach (var (package, filename) in PoolFilesAsync(reader, cancellationToken).ConfigureAwait(false))
            {
                if (scope.WantsArtifactsOf(package))
                {
                    yield return SnapshotPlanRules.Artifact($"{repository}/{SnapshotPlanRules.EscapePath(filename)}");
                }
            }
        }
    }

    /// <summary>
    /// The files a Release lists in its <c>SHA256:</c> section (<c>&lt;hex&gt; &lt;size&gt; &lt;path&gt;</c>), and
    /// their by-hash names when the Release says <c>Acquire-By-Hash: yes</c> (that field comes before the sums).
    /// </summary>
    public static async IAsyncEnumerable<SnapshotRequest> ReleaseLinksAsync(TextReader reader, string suiteDirectory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var byHash = false;
        var inSha256 = false;
        string? line;
        while ((line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)) is not null)
        {
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                if (!inSha256)
                {
                    continue;
                }
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 3 || parts[2].Split('/').Any(s => s is "" or "." or ".."))
                {
                    throw new InvalidDataException($"Release has an unreadable SHA256 line: '{line.Trim()}'");
                }
                var file = parts[2];
                yield return SnapshotPlanRules.Document(suiteDirectory + SnapshotPlanRules.EscapePath(file));
                if (byHash)
                {
                    var slash = file.LastIndexOf('/');
                    var directory = slash < 0 ? "" : file[..(slash + 1)];
                    yield return SnapshotPlanRules.Document($"{suiteDirectory}{SnapshotPlanRules.EscapePath(directory)}by-hash/SHA256/{parts[0]}");
                }
                continue;
            }
            inSha256 = line == "SHA256:";
            if (line.StartsWith("Acquire-By-Hash:", StringComparison.Ordinal))
            {
                byHash = line["Acquire-By-Hash:".Length..].Trim() == "yes";
            }
        }
    }

    /// <summary>Each stanza's <c>Package</c> and <c>Filename</c> of a <c>Packages</c> file.</summary>
    public static async IAsyncEnumerable<(string Package, string Filename)> PoolFilesAsync(TextReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? package = null, filename = null;
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null || line.Length == 0)
            {
                if (filename is not null)
                {
                    if (package is null || !filename.StartsWith("pool/", StringComparison.Ordinal) || filename.Split('/').Any(s => s is "" or "." or ".."))
                    {
                        throw new InvalidDataException($"Packages has a stanza with Filename '{filename}' and Package '{package}': not a pool file");
                    }
                    yield return (package, filename);
                }
                if (line is null)
                {
                    yield break;
                }
                (package, filename) = (null, null);
                continue;
            }
            if (line.StartsWith("Package:", StringComparison.Ordinal))
            {
                package = line["Package:".Length..].Trim();
            }
            else if (line.StartsWith("Filename:", StringComparison.Ordinal))
            {
                filename = line["Filename:".Length..].Trim();
            }
        }
    }
}
