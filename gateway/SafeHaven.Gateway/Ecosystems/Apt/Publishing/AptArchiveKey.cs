using SafeHaven.Core.OpenPgp;

namespace SafeHaven.Gateway.Ecosystems.Apt.Publishing;

/// <summary>
/// The appliance's own OpenPGP key that signs every published <c>Release</c> (<c>InRelease</c> and <c>Release.gpg</c>):
/// generated on first use into the data directory (<c>apt/archive-signing-key.asc</c>, readable by the appliance's
/// account only) and loaded from there afterwards. Clients pin its public half with <c>Signed-By</c>.
/// </summary>
public sealed class AptArchiveKey(string path, TimeProvider time)
{
    public const string UserId = "SafeHaven appliance apt archive key";

    private readonly Lazy<OpenPgpSigningKey> _key = new(() =>
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return OpenPgpSigningKey.LoadOrCreate(path, UserId, time);
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Where the key lives: <c>&lt;DataDirectory&gt;/apt/archive-signing-key.asc</c>.</summary>
    public static string PathIn(string dataDirectory) => System.IO.Path.Combine(dataDirectory, "apt", "archive-signing-key.asc");

    public string Path => path;

    public string Fingerprint => _key.Value.Fingerprint;

    public string PublicKeyArmored() => _key.Value.ExportPublicKeyArmored();

    /// <summary>Writes <c>InRelease</c>: the text, clear-signed.</summary>
    public void ClearSign(Stream text, Stream output, CancellationToken cancellationToken) =>
        _key.Value.ClearSign(text, output, cancellationToken);

    /// <summary>Writes <c>Release.gpg</c>: an armored detached signature of the data.</summary>
    public void SignDetached(Stream data, Stream output, CancellationToken cancellationToken) =>
        _key.Value.SignDetachedArmored(data, output, cancellationToken);
}
