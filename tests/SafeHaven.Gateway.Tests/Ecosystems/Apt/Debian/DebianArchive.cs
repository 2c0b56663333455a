using System.Diagnostics;
using System.Text;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

/// <summary>
/// A Debian-format archive built at test time with Debian's own tools: <c>.deb</c> files made by
/// <c>dpkg-deb --build</c> into <c>pool/main/</c>, indexed by <c>apt-ftparchive packages</c> and summed by
/// <c>apt-ftparchive release</c> (apt-utils). It imitates the shape of a real Debian mirror
/// (<c>dists/&lt;suite&gt;/main/binary-&lt;arch&gt;/Packages</c>, <c>pool/main/&lt;letter&gt;/&lt;name&gt;/</c>) and leaves out on
/// purpose what these tests do not read: signatures (<c>InRelease</c>, <c>Release.gpg</c>), compressed indexes,
/// <c>by-hash</c>, translations and contents files.
/// </summary>
internal sealed class DebianArchive : IDisposable
{
    public DebianArchive()
    {
        Root = Path.Combine(Path.GetTempPath(), "safehaven-apt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Builds a package from control fields (Package, Version, Architecture and Maintainer/Description filled in when absent); returns its path relative to <see cref="Root"/>.</summary>
    public string AddDeb(string name, string version, string architecture = "amd64", string extraControl = "")
    {
        var work = Path.Combine(Root, "build", $"{name}_{version.Replace(':', '%')}_{architecture}");
        Directory.CreateDirectory(Path.Combine(work, "DEBIAN"));
        Directory.CreateDirectory(Path.Combine(work, "usr", "share", "doc", name));
        File.WriteAllText(Path.Combine(work, "usr", "share", "doc", name, "README"), $"{name} {version}\n");
        var control = new StringBuilder()
            .Append("Package: ").Append(name).Append('\n')
            .Append("Version: ").Append(version).Append('\n')
            .Append("Architecture: ").Append(architecture).Append('\n')
            .Append("Maintainer: SafeHaven Tests <tests@safehaven.example>\n")
            .Append(extraControl);
        if (!extraControl.Contains("Description:", StringComparison.Ordinal))
        {
            control.Append("Description: test package ").Append(name).Append('\n');
        }
        File.WriteAllText(Path.Combine(work, "DEBIAN", "control"), control.ToString());
        var upstreamVersion = version.Contains(':', StringComparison.Ordinal) ? version[(version.IndexOf(':', StringComparison.Ordinal) + 1)..] : version;
        var relative = $"pool/main/{name[0]}/{name}/{name}_{upstreamVersion}_{architecture}.deb";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Root, relative))!);
        Run("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", work, Path.Combine(Root, relative)], Root);
        return relative;
    }

    /// <summary>Runs <c>apt-ftparchive packages pool</c>, writes the result as the suite's <c>Packages</c> and returns its text.</summary>
    public string WritePackages(string suite = "stable", string architecture = "amd64")
    {
        var text = Run("apt-ftparchive", ["packages", "pool"], Root);
        var directory = Path.Combine(Root, "dists", suite, "main", $"binary-{architecture}");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "Packages"), text);
        return text;
    }

    /// <summary>Runs <c>apt-ftparchive release</c> over the suite with the given Release fields and returns its text.</summary>
    public string Release(string suite = "stable", params (string Field, string Value)[] fields)
    {
        var arguments = new List<string>();
        foreach (var (field, value) in fields)
        {
            arguments.Add("-o");
            arguments.Add($"APT::FTPArchive::Release::{field}={value}");
        }
        arguments.AddRange(["release", "."]);
        return Run("apt-ftparchive", arguments, Path.Combine(Root, "dists", suite));
    }

    public static string Run(string command, IReadOnlyList<string> arguments, string directory)
    {
        var start = new ProcessStartInfo(command, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["LC_ALL"] = "C.UTF-8";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {command}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {errors.Result}");
        }
        return output.Result;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
