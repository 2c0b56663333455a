using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.OpenPgp;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Apt.Upstream;

/// <summary>
/// Reads one upstream suite the way apt does, and trusts nothing unchecked: <c>InRelease</c> (else <c>Release</c> +
/// <c>Release.gpg</c>) verified against the repository's keyring; the suite named as configured and not expired;
/// each <c>Packages</c> index (<c>.xz</c>, else <c>.gz</c>, else plain; through <c>by-hash</c> when upstream offers it)
/// streamed, parsed and checked against the size and SHA-256 the <c>Release</c> gives before any of it is used.
/// Each (package, version, architecture) is dated by the <c>Date</c> of the earliest verified <c>Release</c> that listed it.
/// </summary>
public sealed class AptUpstreamReader(UpstreamHttp http, OpenPgpKeyring keyring, IFirstSeenStore firstSeen, TimeProvider time, ILogger logger)
{
    public const string DateStore = "apt";

    private static readonly string[] Compressions = [".xz", ".gz", ""];

    /// <param name="previous">The suite as last verified: when upstream's signed Release is byte for byte the same, its indexes are not fetched again.</param>
    public async Task<VerifiedSuite> ReadAsync(AptRepository repository, string suite, VerifiedSuite? previous, CancellationToken cancellationToken)
    {
        var dists = new Uri(repository.Upstream, $"dists/{suite}/");
        var (text, signer, digest) = await ReadReleaseAsync(dists, cancellationToken).ConfigureAwait(false);
        ReleaseFile release;
        try
        {
            release = ReleaseFile.Parse(text);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            throw new AptVerificationException($"the signed Release of {dists} cannot be read: {e.Message}", e);
        }
        var now = time.GetUtcNow();
        if (release.Suite != suite && release.Codename != suite)
        {
            throw new AptVerificationException($"the Release of {dists} is for suite '{release.Suite}' (codename '{release.Codename}'), not '{suite}'");
        }
        if (release.Date is not { } date)
        {
            throw new AptVerificationException($"the Release of {dists} has no Date, so nothing in it can be dated");
        }
        if (release.ValidUntil is { } validUntil && validUntil < now)
        {
            throw new AptVerificationException($"the Release of {dists} expired at {validUntil:O} (Valid-Until); an expired Release may be a replay and is refused");
        }
        if (previous is not null && previous.ReleaseSha256 == digest && previous.Suite == suite)
        {
            return previous with { VerifiedAt = now };
        }
        var indexes = new List<VerifiedIndex>();
        foreach (var component in repository.Components)
        {
            foreach (var architecture in repository.IndexArchitectures)
            {
                var packages = await ReadIndexAsync(repository, dists, release, component, architecture, cancellationToken).ConfigureAwait(false);
                if (packages is not null)
                {
                    indexes.Add(new VerifiedIndex(component, architecture, await DateAsync(repository, packages, date, cancellationToken).ConfigureAwait(false)));
                }
            }
        }
        return new VerifiedSuite(repository, suite, release, date, signer, digest, indexes, now);
    }

    /// <summary>The verified text of the suite's Release, its signer, and the SHA-256 of what upstream sent (to skip an unchanged one).</summary>
    private async Task<(string Text, string Signer, string Digest)> ReadReleaseAsync(Uri dists, CancellationToken cancellationToken)
    {
        var inRelease = await http.GetDocumentAsync(new Uri(dists, "InRelease"), "*/*", null, cancellationToken).ConfigureAwait(false);
        if (inRelease.Status == HttpStatusCode.OK)
        {
            using var stream = new MemoryStream(inRelease.Content, writable: false);
            var (verification, signed) = await OpenPgpVerifier.VerifyClearSignedAsync(stream, keyring, cancellationToken).ConfigureAwait(false);
            if (!verification.Valid || signed is null)
            {
                throw new AptVerificationException($"the signature of {dists}InRelease is not valid with the configured UpstreamKeyring: {verification.Failure}");
            }
            return (signed, verification.SignerFingerprint ?? "", Convert.ToHexStringLower(SHA256.HashData(inRelease.Content)));
        }
        var release = await http.GetDocumentAsync(new Uri(dists, "Release"), "*/*", null, cancellationToken).ConfigureAwait(false);
        if (release.Status != HttpStatusCode.OK)
        {
            throw new UpstreamUnavailableException($"upstream has neither {dists}InRelease nor {dists}Release (answered {(int)release.Status})");
        }
        var signature = await http.GetDocumentAsync(new Uri(dists, "Release.gpg"), "*/*", null, cancellationToken).ConfigureAwait(false);
        if (signature.Status != HttpStatusCode.OK)
        {
            throw new AptVerificationException($"upstream has {dists}Release but no InRelease or Release.gpg: an unsigned Release is refused");
        }
        using var data = new MemoryStream(release.Content, writable: false);
        using var sig = new MemoryStream(signature.Content, writable: false);
        var detached = await OpenPgpVerifier.VerifyDetachedAsync(data, sig, keyring, cancellationToken).ConfigureAwait(false);
        if (!detached.Valid)
        {
            throw new AptVerificationException($"the signature Release.gpg of {dists}Release is not valid with the configured UpstreamKeyring: {detached.Failure}");
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(release.Content);
        }
        catch (DecoderFallbackException e)
        {
            throw new AptVerificationException($"{dists}Release is not UTF-8", e);
        }
        return (text, detached.SignerFingerprint ?? "", Convert.ToHexStringLower(SHA256.HashData(release.Content)));
    }

    /// <summary>The packages of one index, or null when the Release lists none for the architecture <c>all</c> (optional upstream).</summary>
    private async Task<IReadOnlyList<AptPackage>?> ReadIndexAsync(
        AptRepository repository, Uri dists, ReleaseFile release, string component, string architecture, CancellationToken cancellationToken)
    {
        var basePath = $"{component}/binary-{architecture}/Packages";
        var listed = release.Sha256.ToDictionary(e => e.Path, StringComparer.Ordinal);
        foreach (var compression in Compressions)
        {
            if (!listed.TryGetValue(basePath + compression, out var entry))
            {
                continue;
            }
            var paths = release.AcquireByHash
                ? [$"{component}/binary-{architecture}/by-hash/SHA256/{entry.Sha256}", entry.Path]
                : new[] { entry.Path };
            foreach (var path in paths)
            {
                var packages = await TryReadIndexFileAsync(new Uri(dists, path), entry, compression, architecture, cancellationToken).ConfigureAwait(false);
                if (packages is not null)
                {
                    return packages;
                }
            }
        }
        if (architecture == "all")
        {
            return null;
        }
        throw new UpstreamUnavailableException(
            $"the Release of {dists} lists no Packages index that can be fetched for {component}/binary-{architecture} (tried {string.Join(", ", Compressions.Select(c => basePath + c))})");
    }

    private async Task<IReadOnlyList<AptPackage>?> TryReadIndexFileAsync(Uri url, ReleaseEntry entry, string compression, string architecture, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.OpenArtifactAsync(url, cancellationToken).ConfigureAwait(false);
        }
        catch (UpstreamUnavailableException e) when (e.Message.StartsWith("upstream answered 404 ", StringComparison.Ordinal))
        {
            return null;
        }
        using (response)
        {
            if (response.Content.Headers.ContentLength is { } announced && announced != entry.Size)
            {
                throw new AptVerificationException($"{url} does not match the signed Release: it is {announced} bytes, the Release says {entry.Size}; nothing of it is used");
            }
            await using var body = await http.OpenArtifactBodyAsync(response, url, cancellationToken).ConfigureAwait(false);
            await using var hashing = new HashingReadStream(body, entry.Size);
            var packages = new List<AptPackage>();
            var skipped = 0;
            await using (var text = Decompress(hashing, compression))
            {
                await foreach (var paragraph in Deb822Reader.ReadAsync(text, new Deb822Limits(), cancellationToken).ConfigureAwait(false))
                {
                    try
                    {
                        var package = AptPackage.FromParagraph(paragraph, architecture);
                        if (package.Architecture == architecture || package.Architecture == "all")
                        {
                            packages.Add(package);
                        }
                    }
                    catch (Exception e) when (e is FormatException or InvalidDataException)
                    {
                        if (skipped++ == 0)
                        {
                            logger.LogWarning("apt: {Url}: an entry cannot be read and is not listed: {Reason}", url, e.Message);
                        }
                    }
                }
            }
            await hashing.DrainAsync(cancellationToken).ConfigureAwait(false);
            var actual = hashing.Sha256Hex();
            if (hashing.Length != entry.Size || !string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new AptVerificationException(
                    $"{url} does not match the signed Release: {hashing.Length} bytes with SHA-256 {actual}, expected {entry.Size} bytes with SHA-256 {entry.Sha256}; nothing of it is used");
            }
            if (skipped > 0)
            {
                logger.LogWarning("apt: {Url}: {Count} entries could not be read and are not listed", url, skipped);
            }
            return packages;
        }
    }

    private static Stream Decompress(Stream compressed, string compression) => compression switch
    {
        ".gz" => new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true),
        ".xz" => new SharpCompress.Compressors.Xz.XZStream(new NonClosingStream(compressed)),
        _ => new NonClosingStream(compressed),
    };

    private async Task<IReadOnlyList<DatedPackage>> DateAsync(AptRepository repository, IReadOnlyList<AptPackage> packages, DateTimeOffset releaseDate, CancellationToken cancellationToken)
    {
        var keys = packages.Select(p => DatedPackage.DateKey(repository.Name, p)).Distinct(StringComparer.Ordinal).ToList();
        var dates = await firstSeen.GetOrRecordAsync(DateStore, keys, releaseDate, cancellationToken).ConfigureAwait(false);
        return packages.Select(p => new DatedPackage(p, dates[DatedPackage.DateKey(repository.Name, p)])).ToList();
    }
}
