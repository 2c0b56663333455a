using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using NuGet.Frameworks;
using NuGet.Packaging;
using NuGet.Packaging.Signing;
using NuGet.Versioning;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>What the appliance learnt from a downloaded package it verified: its hash, dates and dependencies.</summary>
/// <param name="Sha512">Base64 SHA-512 of the whole file: the pin that later downloads of the same version must match.</param>
/// <param name="SignedAt">The RFC 3161 timestamp of a repository signature made by a trusted signer, else null.</param>
/// <param name="Signer">SHA-256 fingerprint (upper-case hex) of that repository signer, else null.</param>
/// <param name="DependencyGroups">The <c>.nuspec</c>'s dependency groups (an empty list: none).</param>
public sealed record NuGetVerifiedPackage(string Sha512, DateTimeOffset? SignedAt, string? Signer, IReadOnlyList<NuGetDependencyGroup> DependencyGroups);

/// <summary>A package failed verification: a signature that does not hold, an untrusted signer, or a package that is not what it claims.</summary>
public sealed class NuGetVerificationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Verifies a downloaded <c>.nupkg</c> with NuGet.Packaging, offline:
/// <list type="bullet">
/// <item>the <c>.nuspec</c> names the expected id and version (<see cref="PackageArchiveReader"/>, <see cref="NuspecReader"/>);</item>
/// <item>the repository signature (a repository primary signature, or an author signature's
/// <see cref="RepositoryCountersignature"/>) is made by a certificate whose SHA-256 fingerprint is trusted;</item>
/// <item>the CMS signatures are cryptographically valid (primary and countersignature), and the signed content's
/// package hash matches the package (<see cref="ISignedPackageReader.ValidateIntegrityAsync"/>);</item>
/// <item>the repository signature's RFC 3161 timestamp is valid for that signature (its own CMS signature, and its
/// message imprint is the hash of the repository signature value): that timestamp is the package's date.</item>
/// </list>
/// Certificate chains and revocation (CRL/OCSP) are not checked: no revocation service is reachable from an appliance,
/// and pinning the signer's certificate by fingerprint is a stronger statement than a chain to a public root.
/// </summary>
public static class NuGetPackageVerifier
{
    /// <param name="package">The whole package, seekable (a temporary file).</param>
    /// <param name="trustedSigners">Upper-case hex SHA-256 fingerprints.</param>
    /// <param name="requireTrustedSignature">True when no upstream hash vouches for the file, so the signature must.</param>
    public static async Task<NuGetVerifiedPackage> VerifyAsync(
        Stream package, string lowerId, string normalizedVersion, IReadOnlySet<string> trustedSigners, bool requireTrustedSignature, CancellationToken cancellationToken)
    {
        package.Position = 0;
        string sha512;
        using (var hash = SHA512.Create())
        {
            sha512 = Convert.ToBase64String(await hash.ComputeHashAsync(package, cancellationToken).ConfigureAwait(false));
        }
        package.Position = 0;

        using var reader = OpenReader(package);
        NuspecReader nuspec;
        try
        {
            nuspec = await reader.GetNuspecReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new NuGetVerificationException($"the package has no readable .nuspec: {e.Message}", e);
        }
        var identity = nuspec.GetIdentity();
        if (!string.Equals(identity.Id, lowerId, StringComparison.OrdinalIgnoreCase)
            || NuGetPackageState.Normalize(identity.Version) != normalizedVersion)
        {
            throw new NuGetVerificationException($"the package's .nuspec says it is {identity.Id} {identity.Version}, not {lowerId} {normalizedVersion}");
        }
        var groups = ReadDependencyGroups(nuspec);

        DateTimeOffset? signedAt = null;
        string? signer = null;
        if (trustedSigners.Count > 0)
        {
            try
            {
                (signer, signedAt) = await VerifyRepositorySignatureAsync(reader, trustedSigners, cancellationToken).ConfigureAwait(false);
            }
            catch (NuGetVerificationException) when (!requireTrustedSignature)
            {
                // Upstream's hash vouches for the file; an unusable signature only means no signed date.
            }
        }
        else if (requireTrustedSignature)
        {
            throw new NuGetVerificationException("upstream gives no package hash and no trusted signers are configured (SafeHaven:Mirrors:nuget:TrustedSigners)");
        }
        return new NuGetVerifiedPackage(sha512, signedAt, signer, groups);
    }

    private static PackageArchiveReader OpenReader(Stream package)
    {
        try
        {
            return new PackageArchiveReader(package, leaveStreamOpen: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new NuGetVerificationException($"the file is not a readable package: {e.Message}", e);
        }
    }

    /// <summary>The dependency groups of a <c>.nuspec</c>, in the registration's shape (target framework as a short folder name, null for any).</summary>
    public static IReadOnlyList<NuGetDependencyGroup> ReadDependencyGroups(NuspecReader nuspec) =>
        nuspec.GetDependencyGroups()
            .Select(g => new NuGetDependencyGroup(
                g.TargetFramework is null || g.TargetFramework.IsAny ? null : g.TargetFramework.GetShortFolderName(),
                g.Packages.Select(p => new NuGetDependency(p.Id, (p.VersionRange ?? VersionRange.All).ToNormalizedString())).ToList()))
            .ToList();

    private static async Task<(string Signer, DateTimeOffset SignedAt)> VerifyRepositorySignatureAsync(
        PackageArchiveReader reader, IReadOnlySet<string> trustedSigners, CancellationToken cancellationToken)
    {
        if (!await reader.IsSignedAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new NuGetVerificationException("the package carries no signature");
        }
        PrimarySignature? primary;
        try
        {
            primary = await reader.GetPrimarySignatureAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SignatureException or CryptographicException or InvalidDataException)
        {
            throw new NuGetVerificationException($"the package signature cannot be read: {e.Message}", e);
        }
        if (primary is null)
        {
            throw new NuGetVerificationException("the package carries no signature");
        }
        Signature repository = primary.Type == SignatureType.Repository
            ? primary
            : (Signature?)RepositoryCountersignature.GetRepositoryCountersignature(primary)
              ?? throw new NuGetVerificationException("the package has no repository signature");
        var certificate = repository.SignerInfo.Certificate
            ?? throw new NuGetVerificationException("the repository signature names no signer certificate");
        var fingerprint = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        if (!trustedSigners.Contains(fingerprint))
        {
            throw new NuGetVerificationException(
                $"the repository signature is by '{certificate.Subject}' (SHA-256 {fingerprint}), which is not a trusted signer (SafeHaven:Mirrors:nuget:TrustedSigners)");
        }
        try
        {
            // The primary signature covers the signed content (which holds the package hash); a repository
            // countersignature covers the primary signature's value.
            primary.SignedCms.CheckSignature(verifySignatureOnly: true);
            if (!ReferenceEquals(repository, primary))
            {
                repository.SignerInfo.CheckSignature(verifySignatureOnly: true);
            }
        }
        catch (CryptographicException e)
        {
            throw new NuGetVerificationException($"the package signature does not verify: {e.Message}", e);
        }
        try
        {
            await reader.ValidateIntegrityAsync(primary.SignatureContent, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SignatureException or CryptographicException or InvalidDataException)
        {
            throw new NuGetVerificationException($"the package content does not match its signature: {e.Message}", e);
        }
        return (fingerprint, VerifiedTimestamp(repository));
    }

    /// <summary>
    /// The repository signature's RFC 3161 timestamp, checked with the BCL's <see cref="Rfc3161TimestampToken"/>: the
    /// token's own signature is valid and its message imprint is the hash of the repository signature's value.
    /// </summary>
    private static DateTimeOffset VerifiedTimestamp(Signature repository)
    {
        foreach (var timestamp in repository.Timestamps)
        {
            if (timestamp.SignedCms is { } cms && Rfc3161TimestampToken.TryDecode(cms.Encode(), out var token, out _)
                && token.VerifySignatureForSignerInfo(repository.SignerInfo, out _))
            {
                return token.TokenInfo.Timestamp;
            }
        }
        throw new NuGetVerificationException("the repository signature has no valid RFC 3161 timestamp");
    }
}
