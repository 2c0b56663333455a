using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Ecosystems.Apt.Upstream;

/// <summary>An upstream binary package with the date the appliance gives it: the <c>Date</c> of the earliest verified upstream <c>Release</c> that listed it.</summary>
public sealed record DatedPackage(AptPackage Package, DateTimeOffset FirstListed)
{
    /// <summary>The identity a date is recorded under: repository, package, version, architecture.</summary>
    public static string DateKey(string repository, AptPackage package) =>
        $"{repository} {package.Name} {package.Version} {package.Architecture}";
}

/// <summary>One verified upstream <c>Packages</c> index of a suite.</summary>
public sealed record VerifiedIndex(string Component, string Architecture, IReadOnlyList<DatedPackage> Packages);

/// <summary>
/// A suite as upstream published it, after every check: the <c>Release</c> signature against the configured keyring,
/// each index against the SHA-256 and size the <c>Release</c> gives. Nothing else is ever filtered or served.
/// </summary>
public sealed record VerifiedSuite(
    AptRepository Repository, string Suite, ReleaseFile Release, DateTimeOffset ReleaseDate, string SignerFingerprint,
    string ReleaseSha256, IReadOnlyList<VerifiedIndex> Indexes, DateTimeOffset VerifiedAt)
{
    public string Key => AptSuiteKey.Of(Repository.Name, Suite);
}

/// <summary>The name a suite is known by in logs, the refresh store and <c>/healthz</c>: <c>&lt;repository&gt;/dists/&lt;suite&gt;</c>.</summary>
public static class AptSuiteKey
{
    public static string Of(string repository, string suite) => $"{repository}/dists/{suite}";
}

/// <summary>Upstream's archive could not be trusted (bad or unknown signature, a hash mismatch, an expired Release): nothing of it is used.</summary>
public sealed class AptVerificationException(string message, Exception? inner = null) : Exception(message, inner);
