using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SafeHaven.Core.Compression;
using SafeHaven.Gateway.Ecosystems.Apt.Upstream;

namespace SafeHaven.Gateway.Ecosystems.Apt.Publishing;

/// <summary>
/// Writes a suite's filtered indexes and its <c>Release</c> signed with the appliance's key, as a new tree beside the
/// one being served (<c>&lt;DataDirectory&gt;/apt/&lt;repository&gt;/suites/&lt;suite&gt;/&lt;id&gt;/</c>); index files go
/// to the repository's content-addressed <c>by-hash/</c> folder, which also answers <c>by-hash/SHA256/</c> requests
/// for older <c>Release</c> files clients may still hold. The caller swaps the returned suite in; nothing served
/// is modified in place.
/// </summary>
public sealed class AptPublisher(string dataDirectory, AptArchiveKey key)
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string RepositoryDirectory(string repository) => Path.Combine(dataDirectory, "apt", "repositories", repository);

    public string ByHashDirectory(string repository) => Path.Combine(RepositoryDirectory(repository), "by-hash");

    private string SuiteDirectory(string repository, string suite) =>
        Path.Combine(RepositoryDirectory(repository), "suites", Uri.EscapeDataString(suite));

    public async Task<AptPublishedSuite> PublishAsync(
        VerifiedSuite upstream, IReadOnlyList<(VerifiedIndex Index, IReadOnlyList<DatedPackage> Visible)> indexes,
        string fingerprint, DateTimeOffset now, TimeSpan validFor, int tier, CancellationToken cancellationToken)
    {
        var repository = upstream.Repository.Name;
        var byHash = ByHashDirectory(repository);
        Directory.CreateDirectory(byHash);
        var id = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var directory = Path.Combine(SuiteDirectory(repository, upstream.Suite), id);
        Directory.CreateDirectory(directory);

        var files = new Dictionary<string, PublishedFile>(StringComparer.Ordinal);
        var pool = new Dictionary<string, PoolEntry>(StringComparer.Ordinal);
        var listed = 0;
        foreach (var (index, visible) in indexes)
        {
            var path = $"{index.Component}/binary-{index.Architecture}/Packages";
            var plain = await WriteContentAddressedAsync(byHash, async stream =>
            {
                await using var writer = new StreamWriter(stream, Utf8, 64 * 1024, leaveOpen: true) { NewLine = "\n" };
                foreach (var dated in visible)
                {
                    dated.Package.Stanza.WriteTo(writer);
                }
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }, "text/plain; charset=utf-8", cancellationToken).ConfigureAwait(false);
            files[path] = plain;
            files[path + ".gz"] = await WriteContentAddressedAsync(byHash, async stream =>
            {
                await using var gzip = new GZipStream(stream, CompressionLevel.SmallestSize, leaveOpen: true);
                await using var source = File.OpenRead(plain.FullPath);
                await source.CopyToAsync(gzip, cancellationToken).ConfigureAwait(false);
            }, "application/gzip", cancellationToken).ConfigureAwait(false);
            files[path + ".xz"] = await WriteContentAddressedAsync(byHash, async stream =>
            {
                await using var source = File.OpenRead(plain.FullPath);
                await Xz.CompressAsync(source, stream, preset: 6, cancellationToken).ConfigureAwait(false);
            }, "application/x-xz", cancellationToken).ConfigureAwait(false);
            foreach (var dated in visible)
            {
                var package = dated.Package;
                pool.TryAdd(package.Filename, new PoolEntry(package.Filename, package.Sha256, package.Size));
            }
            listed += visible.Count;
        }

        var validUntil = now + validFor;
        var release = RenderRelease(upstream, files, now, validUntil, tier);
        var releasePath = Path.Combine(directory, "Release");
        await File.WriteAllBytesAsync(releasePath, release, cancellationToken).ConfigureAwait(false);
        var inReleasePath = Path.Combine(directory, "InRelease");
        var signaturePath = Path.Combine(directory, "Release.gpg");
        await using (var text = new MemoryStream(release, writable: false))
        await using (var output = File.Create(inReleasePath))
        {
            key.ClearSign(text, output, cancellationToken);
        }
        await using (var data = new MemoryStream(release, writable: false))
        await using (var output = File.Create(signaturePath))
        {
            key.SignDetached(data, output, cancellationToken);
        }
        files["Release"] = await DescribeAsync(releasePath, "text/plain; charset=utf-8", cancellationToken).ConfigureAwait(false);
        files["InRelease"] = await DescribeAsync(inReleasePath, "text/plain; charset=utf-8", cancellationToken).ConfigureAwait(false);
        files["Release.gpg"] = await DescribeAsync(signaturePath, "application/pgp-signature", cancellationToken).ConfigureAwait(false);

        var published = new AptPublishedSuite(repository, upstream.Suite, directory, files, pool, now, validUntil, upstream.ReleaseDate, fingerprint, listed);
        await WriteManifestAsync(published, cancellationToken).ConfigureAwait(false);
        return published;
    }

    /// <summary>
    /// The <c>Release</c>: upstream's <c>Origin</c>, <c>Label</c>, <c>Suite</c>, <c>Codename</c> and <c>Version</c> kept
    /// (clients notice and question a change of them), the appliance's own <c>Date</c> and <c>Valid-Until</c>,
    /// <c>Acquire-By-Hash: yes</c>, and SHA-256 sums only.
    /// </summary>
    private static byte[] RenderRelease(VerifiedSuite upstream, IReadOnlyDictionary<string, PublishedFile> files, DateTimeOffset now, DateTimeOffset validUntil, int tier)
    {
        var release = upstream.Release;
        var text = new StringBuilder();
        void Field(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                text.Append(name).Append(": ").Append(value.Trim()).Append('\n');
            }
        }
        Field("Origin", release.Origin ?? upstream.Repository.Name);
        Field("Label", release.Label ?? upstream.Repository.Name);
        Field("Suite", release.Suite ?? upstream.Suite);
        Field("Version", release.Version);
        Field("Codename", release.Codename ?? upstream.Suite);
        Field("Date", FormatDate(now));
        Field("Valid-Until", FormatDate(validUntil));
        Field("Acquire-By-Hash", "yes");
        var architectures = files.Keys.Select(k => k.Split('/')).Where(p => p.Length >= 3 && p[^2].StartsWith("binary-", StringComparison.Ordinal))
            .Select(p => p[^2]["binary-".Length..]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        Field("Architectures", string.Join(' ', architectures));
        Field("Components", string.Join(' ', upstream.Repository.Components));
        Field("Description", $"SafeHaven tier {tier} view of {upstream.Repository.Name} {upstream.Suite}, verified and re-signed by the appliance");
        text.Append("SHA256:\n");
        foreach (var (path, file) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            text.Append(' ').Append(file.Sha256).Append(' ').Append(file.Size.ToString(CultureInfo.InvariantCulture).PadLeft(16)).Append(' ').Append(path).Append('\n');
        }
        return Utf8.GetBytes(text.ToString());
    }

    /// <summary>RFC 2822 in UTC, as Debian's archive tools write <c>Date</c>.</summary>
    public static string FormatDate(DateTimeOffset date) =>
        date.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static async Task<PublishedFile> WriteContentAddressedAsync(string byHash, Func<Stream, Task> write, string contentType, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(byHash, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                await write(stream).ConfigureAwait(false);
            }
            var described = await DescribeAsync(temporary, contentType, cancellationToken).ConfigureAwait(false);
            var final = Path.Combine(byHash, described.Sha256);
            if (!File.Exists(final))
            {
                File.Move(temporary, final, overwrite: true);
            }
            return described with { FullPath = final };
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static async Task<PublishedFile> DescribeAsync(string path, string contentType, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return new PublishedFile(path, stream.Length, Convert.ToHexStringLower(hash), contentType);
    }

    private const string Manifest = "published.json";
    private const string Current = "current";

    /// <summary>Records the tree and makes it the one a restart serves (written beside it, then renamed over the pointer).</summary>
    private async Task WriteManifestAsync(AptPublishedSuite suite, CancellationToken cancellationToken)
    {
        await using (var stream = File.Create(Path.Combine(suite.Directory, Manifest)))
        {
            await JsonSerializer.SerializeAsync(stream, suite, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        var parent = Path.GetDirectoryName(suite.Directory)!;
        var pointer = Path.Combine(parent, Current + ".tmp");
        await File.WriteAllTextAsync(pointer, Path.GetFileName(suite.Directory), cancellationToken).ConfigureAwait(false);
        File.Move(pointer, Path.Combine(parent, Current), overwrite: true);
    }

    /// <summary>The last suite published before a restart, or null (nothing published yet, or its files are gone).</summary>
    public async Task<AptPublishedSuite?> LoadCurrentAsync(string repository, string suite, CancellationToken cancellationToken)
    {
        var parent = SuiteDirectory(repository, suite);
        var pointer = Path.Combine(parent, Current);
        if (!File.Exists(pointer))
        {
            return null;
        }
        var manifest = Path.Combine(parent, (await File.ReadAllTextAsync(pointer, cancellationToken).ConfigureAwait(false)).Trim(), Manifest);
        if (!File.Exists(manifest))
        {
            return null;
        }
        await using var stream = File.OpenRead(manifest);
        var loaded = await JsonSerializer.DeserializeAsync<AptPublishedSuite>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return loaded is not null && loaded.Files.Values.All(f => File.Exists(f.FullPath)) ? loaded : null;
    }

    /// <summary>Removes the suite's older trees, keeping the one served and the one before it (a client may be mid-update).</summary>
    public void Prune(AptPublishedSuite current)
    {
        var parent = Path.GetDirectoryName(current.Directory)!;
        foreach (var old in Directory.GetDirectories(parent).Order(StringComparer.Ordinal).Reverse().Skip(2))
        {
            try
            {
                Directory.Delete(old, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
