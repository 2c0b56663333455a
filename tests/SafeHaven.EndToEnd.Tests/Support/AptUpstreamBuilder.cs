using System.Globalization;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>A tiny binary package of a fixture archive: <c>Architecture: all</c>, built with <c>dpkg-deb --build</c>.</summary>
/// <remarks><see cref="Source"/> is the control file's <c>Source</c> field (<c>foo</c> or <c>foo (1.2-3)</c>), written only when given.</remarks>
public sealed record AptFixturePackage(string Name, string Version, string? Depends = null, string? Provides = null, string? PreDepends = null, string? Source = null)
{
    public string FileName => $"{Name}_{Version}_all.deb";
}

/// <summary>How the fixture's suite is signed: real archives publish <c>InRelease</c>, <c>Release</c> + <c>Release.gpg</c>, or both.</summary>
public enum AptSigning
{
    InReleaseOnly,
    DetachedOnly,
}

/// <summary>
/// Builds a Debian-format archive at test time as Debian's own tools make one: <c>.deb</c>s by <c>dpkg-deb --build</c>
/// into <c>pool/main/</c>, <c>Packages</c> by <c>apt-ftparchive packages</c>, <c>Release</c> by <c>apt-ftparchive
/// release</c> (with a chosen <c>Date</c>), signed by a key the test makes with <c>gpg</c>. It imitates a real archive
/// (a Debian mirror) in its least complete shape, on purpose: one suite, one component (<c>main</c>), one architecture
/// (<c>amd64</c>, every package <c>all</c>), only <c>Packages.gz</c> or only <c>Packages.xz</c> (never the plain <c>Packages</c>), no
/// <c>by-hash/</c> unless asked (then only there), no <c>binary-all/</c> index, no <c>Contents</c> or translations, and only one of <c>InRelease</c> or
/// <c>Release.gpg</c>.
/// </summary>
public sealed class AptUpstreamBuilder(string root, AptSigningKey key)
{
    public string Root => root;

    /// <param name="xz">Publish <c>Packages.xz</c> (made by the <c>xz</c> command) instead of <c>Packages.gz</c>, as Debian's own archive does for its largest indexes.</param>
    /// <param name="byHashOnly">
    /// Publish the index only under <c>by-hash/SHA256/&lt;its hash&gt;</c> and add <c>Acquire-By-Hash: yes</c> to the
    /// <c>Release</c> before signing, as Debian's archive (dak) does; <c>apt-ftparchive</c> writes no by-hash, so the
    /// index is moved there after the <c>Release</c> is made. Real archives keep the plain name too; leaving it out
    /// proves the by-hash path is the one read.
    /// </param>
    /// <param name="codename">The <c>Codename</c> of the <c>Release</c> (Debian's <c>stable</c> is <c>bookworm</c>); the suite name when not given.</param>
    public async Task BuildAsync(string suite, IReadOnlyList<AptFixturePackage> packages, DateTimeOffset releaseDate, AptSigning signing, bool xz = false,
        bool byHashOnly = false, string? codename = null)
    {
        var pool = Path.Combine(root, "pool", "main");
        Directory.CreateDirectory(pool);
        var work = Directory.CreateTempSubdirectory("safehaven-deb-").FullName;
        try
        {
            foreach (var package in packages)
            {
                var target = Path.Combine(pool, package.FileName);
                if (File.Exists(target))
                {
                    continue;
                }
                var tree = Path.Combine(work, package.Name + "_" + package.Version);
                Directory.CreateDirectory(Path.Combine(tree, "DEBIAN"));
                Directory.CreateDirectory(Path.Combine(tree, "usr", "share", "doc", package.Name));
                await File.WriteAllTextAsync(Path.Combine(tree, "usr", "share", "doc", package.Name, "README"), $"{package.Name} {package.Version}\n");
                var control = $"Package: {package.Name}\n" + (package.Source is null ? "" : $"Source: {package.Source}\n") + $"Version: {package.Version}\nArchitecture: all\nMaintainer: SafeHaven Tests <tests@example.invalid>\nPriority: optional\nSection: misc\n"
                    + (package.PreDepends is null ? "" : $"Pre-Depends: {package.PreDepends}\n")
                    + (package.Depends is null ? "" : $"Depends: {package.Depends}\n")
                    + (package.Provides is null ? "" : $"Provides: {package.Provides}\n")
                    + $"Description: SafeHaven test package {package.Name}\n";
                await File.WriteAllTextAsync(Path.Combine(tree, "DEBIAN", "control"), control);
                await Run("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", tree, target], root);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        // Index only what this suite lists (the pool may hold more, as a real pool holds other suites' files).
        var listed = Path.Combine(root, ".listed-" + suite);
        Directory.CreateDirectory(listed);
        foreach (var stale in Directory.GetFiles(listed))
        {
            File.Delete(stale);
        }
        foreach (var package in packages)
        {
            File.CreateSymbolicLink(Path.Combine(listed, package.FileName), Path.Combine(pool, package.FileName));
        }
        var dists = Path.Combine(root, "dists", suite);
        var binary = Path.Combine(dists, "main", "binary-amd64");
        Directory.CreateDirectory(binary);
        var packagesText = (await Run("apt-ftparchive", ["packages", Path.GetFileName(listed)], root)).StandardOutput
            .Replace($"Filename: {Path.GetFileName(listed)}/", "Filename: pool/main/", StringComparison.Ordinal);
        foreach (var old in new[] { "Packages", "Packages.gz", "Packages.xz" })
        {
            File.Delete(Path.Combine(binary, old));
        }
        if (xz)
        {
            await File.WriteAllTextAsync(Path.Combine(binary, "Packages"), packagesText);
            await Run("xz", ["-6", Path.Combine(binary, "Packages")], root);
        }
        else
        {
            var gz = Path.Combine(binary, "Packages.gz");
            await using var file = File.Create(gz);
            await using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Optimal);
            await using var writer = new StreamWriter(gzip) { NewLine = "\n" };
            await writer.WriteAsync(packagesText);
        }
        var release = (await Run("apt-ftparchive", [
            "-o", "APT::FTPArchive::Release::Origin=SafeHavenTest",
            "-o", "APT::FTPArchive::Release::Label=SafeHavenTest",
            "-o", $"APT::FTPArchive::Release::Suite={suite}",
            "-o", $"APT::FTPArchive::Release::Codename={codename ?? suite}",
            "-o", "APT::FTPArchive::Release::Architectures=amd64",
            "-o", "APT::FTPArchive::Release::Components=main",
            "-o", "APT::FTPArchive::Release::Date=" + releaseDate.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
            "release", dists], root)).StandardOutput;
        foreach (var old in new[] { "Release", "InRelease", "Release.gpg" })
        {
            File.Delete(Path.Combine(dists, old));
        }
        if (byHashOnly)
        {
            var byHash = Path.Combine(binary, "by-hash", "SHA256");
            Directory.CreateDirectory(byHash);
            foreach (var index in Directory.GetFiles(binary, "Packages*"))
            {
                byte[] hash;
                await using (var stream = File.OpenRead(index))
                {
                    hash = await System.Security.Cryptography.SHA256.HashDataAsync(stream);
                }
                File.Move(index, Path.Combine(byHash, Convert.ToHexStringLower(hash)), overwrite: true);
            }
            var hashes = release.IndexOf("\nMD5Sum:", StringComparison.Ordinal) is var md5 and >= 0 ? md5 : release.IndexOf("\nSHA256:", StringComparison.Ordinal);
            release = release.Insert(hashes + 1, "Acquire-By-Hash: yes\n");
        }
        var releasePath = Path.Combine(dists, "Release");
        await File.WriteAllTextAsync(releasePath, release);
        if (signing == AptSigning.InReleaseOnly)
        {
            await key.SignAsync(releasePath, Path.Combine(dists, "InRelease"), clear: true);
            File.Delete(releasePath);
        }
        else
        {
            await key.SignAsync(releasePath, Path.Combine(dists, "Release.gpg"), clear: false);
        }
    }

    /// <summary>Replaces a published <c>.deb</c> with other bytes of the same size, as a compromised mirror would; its index is left as it was.</summary>
    public void TamperDeb(string fileName)
    {
        var path = Path.Combine(root, "pool", "main", fileName);
        var bytes = File.ReadAllBytes(path);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Replaces the suite's <c>Packages.gz</c> after its <c>Release</c> was signed, adding an entry the signed Release does not cover.</summary>
    public async Task TamperPackagesAsync(string suite, string extraEntry)
    {
        var gz = Path.Combine(root, "dists", suite, "main", "binary-amd64", "Packages.gz");
        string text;
        await using (var file = File.OpenRead(gz))
        await using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip))
        {
            text = await reader.ReadToEndAsync();
        }
        await using var output = File.Create(gz);
        await using var compress = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal);
        await using var writer = new StreamWriter(compress) { NewLine = "\n" };
        await writer.WriteAsync(text + extraEntry);
    }

    private static async Task<ProcessResult> Run(string command, string[] arguments, string directory)
    {
        var result = await ProcessRunner.RunAsync(command, arguments, directory, timeout: TimeSpan.FromMinutes(2));
        return result.ExitCode == 0 ? result : throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({result.ExitCode}):\n{result.Output}");
    }
}

/// <summary>An OpenPGP signing key made by <c>gpg</c> for the test, in its own GNUPGHOME; its public keyring exported to a file.</summary>
public sealed class AptSigningKey : IDisposable
{
    private AptSigningKey(string home, string keyring)
    {
        Home = home;
        KeyringPath = keyring;
    }

    public string Home { get; }

    /// <summary>The public key as a binary keyring (what an operator gives as <c>UpstreamKeyring</c>).</summary>
    public string KeyringPath { get; }

    private IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["GNUPGHOME"] = Home };

    public static async Task<AptSigningKey> CreateAsync(string userId)
    {
        var home = Directory.CreateTempSubdirectory("safehaven-gpg-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var env = new Dictionary<string, string?> { ["GNUPGHOME"] = home };
        var made = await ProcessRunner.RunAsync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", userId, "ed25519", "sign", "never"], home, env);
        if (made.ExitCode != 0)
        {
            throw new InvalidOperationException("gpg --quick-gen-key failed:\n" + made.Output);
        }
        var keyring = Path.Combine(home, "public.gpg");
        var exported = await ProcessRunner.RunAsync("gpg", ["--batch", "--yes", "--output", keyring, "--export"], home, env);
        if (exported.ExitCode != 0)
        {
            throw new InvalidOperationException("gpg --export failed:\n" + exported.Output);
        }
        return new AptSigningKey(home, keyring);
    }

    public async Task SignAsync(string input, string output, bool clear)
    {
        var result = await ProcessRunner.RunAsync("gpg",
            ["--batch", "--yes", "--digest-algo", "SHA256", clear ? "--clearsign" : "--detach-sign", "--armor", "--output", output, input], Home, Environment);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("gpg signing failed:\n" + result.Output);
        }
    }

    public void Dispose()
    {
        ProcessRunner.RunAsync("gpgconf", ["--kill", "all"], Home, Environment).GetAwaiter().GetResult();
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
