using Microsoft.Extensions.Configuration;
using SafeHaven.Core.OpenPgp;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>
/// The OpenPGP public keys whose bundles this appliance imports: <c>SafeHaven:Sync:TrustedKeys</c>, an array of paths to
/// public key files (armoured, as <c>safehaven apt key</c> prints them, or binary). None configured: every bundle is
/// refused (fail closed). A bundle is accepted when one trusted key made a valid signature over bundle.json's exact
/// bytes; a signature by a trusted key that does not match the bytes refuses it whatever else is there.
/// </summary>
public sealed class BundleTrust
{
    public const string ConfigurationKey = "SafeHaven:Sync:TrustedKeys";

    private readonly IReadOnlyList<(string Path, OpenPgpKeyring Keyring)> _keyrings;

    private BundleTrust(IReadOnlyList<(string, OpenPgpKeyring)> keyrings) => _keyrings = keyrings;

    /// <summary>The configured key files' paths, in order.</summary>
    public IReadOnlyList<string> Paths => _keyrings.Select(k => k.Path).ToList();

    /// <summary>Loads every configured key file; a file that is missing or not a public key is an error naming it.</summary>
    public static BundleTrust FromConfiguration(IConfiguration configuration)
    {
        var paths = configuration.GetSection(ConfigurationKey).Get<string[]>() ?? [];
        return Load(paths.Where(p => !string.IsNullOrWhiteSpace(p)));
    }

    public static BundleTrust Load(IEnumerable<string> paths)
    {
        var keyrings = new List<(string, OpenPgpKeyring)>();
        foreach (var path in paths)
        {
            var full = System.IO.Path.GetFullPath(path);
            if (!File.Exists(full))
            {
                throw new BundleRefusedException($"{ConfigurationKey}: the trusted key file {full} does not exist.");
            }
            try
            {
                keyrings.Add((full, OpenPgpKeyring.Load(full)));
            }
            catch (InvalidDataException e)
            {
                throw new BundleRefusedException($"{ConfigurationKey}: {e.Message}", e);
            }
        }
        return new BundleTrust(keyrings);
    }

    /// <summary>Checks the detached signature; returns the signer's fingerprint or throws <see cref="BundleRefusedException"/> saying why.</summary>
    public async Task<string> VerifyAsync(byte[] descriptor, byte[] signature, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_keyrings.Count == 0)
        {
            throw new BundleRefusedException(
                $"no trusted bundle keys are configured ({ConfigurationKey} is empty), so no bundle can be verified: " +
                "add the exporting appliance's public key file (its 'safehaven apt key' output) to that list.");
        }
        var failures = new List<string>();
        string? signer = null;
        foreach (var (path, keyring) in _keyrings)
        {
            using var data = new MemoryStream(descriptor, writable: false);
            using var sig = new MemoryStream(signature, writable: false);
            var result = await OpenPgpVerifier.VerifyDetachedAsync(data, sig, keyring, time, cancellationToken).ConfigureAwait(false);
            if (result.Valid)
            {
                signer ??= result.SignerFingerprint;
                continue;
            }
            if (result.Kind is OpenPgpFailureKind.UnknownKey && _keyrings.Count > 1)
            {
                failures.Add($"{System.IO.Path.GetFileName(path)}: {result.Failure}");
                continue;
            }
            if (result.Kind is not OpenPgpFailureKind.UnknownKey)
            {
                throw new BundleRefusedException($"the signature of {BundleLayout.DescriptorName} is refused: {result.Failure}");
            }
            failures.Add(result.Failure ?? "refused");
        }
        return signer ?? throw new BundleRefusedException(
            $"the signature of {BundleLayout.DescriptorName} is not by a trusted key ({string.Join("; ", failures)}); trusted keys: " +
            string.Join(", ", _keyrings.SelectMany(k => k.Keyring.Fingerprints)));
    }
}
