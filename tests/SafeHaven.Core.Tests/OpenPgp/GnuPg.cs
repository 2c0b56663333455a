using System.Diagnostics;
using System.Text;

namespace SafeHaven.Core.Tests.OpenPgp;

/// <summary>The outcome of a finished command: exit code, standard output as bytes, standard error as text.</summary>
internal sealed record ToolResult(int ExitCode, byte[] Output, string Error)
{
    public string OutputText => Encoding.UTF8.GetString(Output);
}

/// <summary>
/// The real GnuPG (Debian's gnupg, gpgv and sqv packages) in a throwaway <c>GNUPGHOME</c>: makes keys and
/// signatures the way an upstream archive makes them, and judges the appliance's signatures the way apt does.
/// </summary>
internal sealed class GnuPg : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("sh-gpg-");

    public GnuPg()
    {
        Home = Path.Combine(_root.FullName, "home");
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("the OpenPGP tests drive Debian's gpg");
        Directory.CreateDirectory(Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Home { get; }

    /// <summary>A scratch folder for files the test writes, removed with the home.</summary>
    public string Scratch => _root.FullName;

    /// <summary>Makes a key with no passphrase; returns its fingerprint. <paramref name="fakedTime"/> (such as <c>20200101T000000</c>) backdates it.</summary>
    public async Task<string> GenerateKeyAsync(string userId, string algorithm, string expire = "never", string? fakedTime = null)
    {
        var args = new List<string>();
        if (fakedTime is not null)
            args.AddRange(["--faked-system-time", fakedTime]);
        args.AddRange(["--passphrase", "", "--quick-gen-key", userId, algorithm, "sign", expire]);
        await RunOkAsync(args);
        return await FingerprintAsync(userId);
    }

    /// <summary>Adds a signing subkey; returns the subkey's fingerprint.</summary>
    public async Task<string> AddSigningSubkeyAsync(string primaryFingerprint, string algorithm)
    {
        await RunOkAsync(["--passphrase", "", "--quick-add-key", primaryFingerprint, algorithm, "sign", "never"]);
        var listing = (await RunOkAsync(["--with-colons", "--fingerprint", "--list-keys", primaryFingerprint])).OutputText.Split('\n');
        return listing.Select((line, i) => (line, i)).Where(x => x.line.StartsWith("sub:", StringComparison.Ordinal))
            .Select(x => listing[x.i + 1].Split(':')[9]).Last();
    }

    public async Task<string> FingerprintAsync(string userId)
    {
        var listing = (await RunOkAsync(["--with-colons", "--fingerprint", "--list-keys", userId])).OutputText;
        return listing.Split('\n').First(l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];
    }

    /// <summary>The public key(s) as a binary keyring, what <c>gpg --export</c> writes.</summary>
    public async Task<byte[]> ExportAsync(params string[] fingerprints) => (await RunOkAsync(["--export", .. fingerprints])).Output;

    public async Task<string> ExportArmoredAsync(params string[] fingerprints) => (await RunOkAsync(["--armor", "--export", .. fingerprints])).OutputText;

    public async Task<byte[]> ClearSignAsync(byte[] text, string[] signers, params string[] extra)
    {
        var args = new List<string>(extra);
        foreach (var signer in signers)
            args.AddRange(["--local-user", signer + "!"]);
        args.Add("--clearsign");
        return (await RunOkAsync(args, text)).Output;
    }

    public async Task<byte[]> DetachSignAsync(byte[] data, string signer, bool armor, params string[] extra)
    {
        var args = new List<string>(extra) { "--local-user", signer + "!" };
        if (armor)
            args.Add("--armor");
        args.Add("--detach-sign");
        return (await RunOkAsync(args, data)).Output;
    }

    /// <summary>Revokes a key with the revocation certificate gpg made when it made the key.</summary>
    public async Task RevokeAsync(string fingerprint)
    {
        var certificate = await File.ReadAllTextAsync(Path.Combine(Home, "openpgp-revocs.d", fingerprint + ".rev"));
        certificate = certificate.Replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----", StringComparison.Ordinal);
        await RunOkAsync(["--import"], Encoding.ASCII.GetBytes(certificate));
    }

    public async Task<ToolResult> RunOkAsync(IEnumerable<string> args, byte[]? stdin = null)
    {
        var result = await RunAsync(args, stdin);
        Assert.True(result.ExitCode == 0, $"gpg failed ({result.ExitCode}): {result.Error}");
        return result;
    }

    public Task<ToolResult> RunAsync(IEnumerable<string> args, byte[]? stdin = null) =>
        RunToolAsync("gpg", ["--homedir", Home, "--batch", "--no-tty", "--pinentry-mode", "loopback", .. args], stdin);

    public static bool Installed(string tool) =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(dir => File.Exists(Path.Combine(dir, tool)));

    /// <summary>Runs a tool with its standard input fed from <paramref name="stdin"/>, bounded in time.</summary>
    public static async Task<ToolResult> RunToolAsync(string tool, IEnumerable<string> args, byte[]? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["LC_ALL"] = "C";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        using var process = Process.Start(info)!;
        using var output = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(output);
        var readErr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        await copyOut;
        return new ToolResult(process.ExitCode, output.ToArray(), await readErr);
    }

    public void Dispose()
    {
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("gpgconf", ["--homedir", Home, "--kill", "all"]) { UseShellExecute = false, RedirectStandardError = true })!;
            kill.WaitForExit(10_000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
        try { _root.Delete(recursive: true); }
        catch (IOException) { }
    }
}
