using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>Real <c>apt-get</c> against a Tier 0 appliance: verified, re-signed pass-through, and what it never serves.</summary>
public sealed class AptPassThroughTests(AptPassThroughFixture fixture) : IClassFixture<AptPassThroughFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private string Describe(ProcessResult result) => $"apt said:\n{result.Output}\nappliance log:\n{fixture.Appliance.Log}";

    private async Task<JsonElement> AptHealthAsync() =>
        JsonDocument.Parse(await Http.GetStringAsync(new Uri(fixture.Appliance.BaseUrl, "healthz"))).RootElement.Clone();

    [Fact]
    public async Task Tier0_installs_the_newest_version_with_its_dependency_verified_by_the_appliance_key()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl("main"), AptPassThroughFixture.Suite, fixture.ApplianceKeyPath);

        var update = await apt.UpdateAsync();
        Assert.Equal(0, update.ExitCode);
        Assert.DoesNotContain("W:", update.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("E:", update.Output, StringComparison.Ordinal);

        var install = await apt.InstallDownloadOnlyAsync("hello");
        Assert.True(install.ExitCode == 0, Describe(install));
        Assert.Equal(["hello_2.0_all.deb", "libgreet_1.2_all.deb"], apt.Fetched());
        // What apt fetched is byte for byte what upstream published.
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(fixture.Root, "main", "pool", "main", "hello_2.0_all.deb")),
            await File.ReadAllBytesAsync(Path.Combine(apt.Archives, "hello_2.0_all.deb")));

        var download = await apt.DownloadAsync("hello=1.0");
        Assert.True(download.ExitCode == 0, Describe(download));
        Assert.True(File.Exists(Path.Combine(apt.DownloadsDirectory, "hello_1.0_all.deb")));
    }

    [Fact]
    public async Task The_published_release_is_resigned_by_hash_and_sha256_only()
    {
        var release = await Http.GetStringAsync(new Uri(fixture.RepositoryUrl("main"), "dists/stable/Release"));
        Assert.Contains("Acquire-By-Hash: yes\n", release, StringComparison.Ordinal);
        Assert.Contains("Origin: SafeHavenTest\n", release, StringComparison.Ordinal);
        Assert.Contains("Codename: stable\n", release, StringComparison.Ordinal);
        Assert.Contains("Valid-Until: ", release, StringComparison.Ordinal);
        Assert.Contains("SHA256:\n", release, StringComparison.Ordinal);
        Assert.DoesNotContain("MD5Sum:", release, StringComparison.Ordinal);
        Assert.DoesNotContain("SHA1:", release, StringComparison.Ordinal);

        // Every file the Release names is served, under its path and under by-hash/SHA256/, with that hash.
        var entries = release[(release.IndexOf("SHA256:\n", StringComparison.Ordinal) + 8)..]
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Contains(entries, e => e[2] == "main/binary-amd64/Packages");
        Assert.Contains(entries, e => e[2] == "main/binary-amd64/Packages.gz");
        Assert.Contains(entries, e => e[2] == "main/binary-amd64/Packages.xz");
        // The appliance's own xz (liblzma in process) decompresses, with the real xz, to the Packages it lists.
        var plain = await Http.GetByteArrayAsync(new Uri(fixture.RepositoryUrl("main"), "dists/stable/main/binary-amd64/Packages"));
        var xz = await Http.GetByteArrayAsync(new Uri(fixture.RepositoryUrl("main"), "dists/stable/main/binary-amd64/Packages.xz"));
        var xzFile = Path.Combine(Path.GetTempPath(), $"safehaven-packages-{Guid.NewGuid():N}.xz");
        await File.WriteAllBytesAsync(xzFile, xz);
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("xz", ["-dc", xzFile]) { RedirectStandardOutput = true };
            using var unxz = System.Diagnostics.Process.Start(start)!;
            using var decompressed = new MemoryStream();
            await unxz.StandardOutput.BaseStream.CopyToAsync(decompressed);
            await unxz.WaitForExitAsync();
            Assert.Equal(0, unxz.ExitCode);
            Assert.Equal(plain, decompressed.ToArray());
        }
        finally
        {
            File.Delete(xzFile);
        }
        foreach (var entry in entries)
        {
            var direct = await Http.GetByteArrayAsync(new Uri(fixture.RepositoryUrl("main"), "dists/stable/" + entry[2]));
            Assert.Equal(entry[0], Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(direct)));
            var dir = entry[2][..entry[2].LastIndexOf('/')];
            var byHash = await Http.GetByteArrayAsync(new Uri(fixture.RepositoryUrl("main"), $"dists/stable/{dir}/by-hash/SHA256/{entry[0]}"));
            Assert.Equal(direct, byHash);
        }

        // The key apt pins is the one the CLI prints.
        var cli = await fixture.Appliance.RunCliAsync("apt", "key");
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.Equal((await File.ReadAllTextAsync(fixture.ApplianceKeyPath)).Trim(), cli.StandardOutput.Trim());
    }

    [Fact]
    public async Task Apt_rejects_the_repository_when_signed_by_names_another_key()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl("main"), AptPassThroughFixture.Suite, fixture.OtherKeyPath);

        var update = await apt.UpdateAsync();

        Assert.Contains("NO_PUBKEY", update.Output, StringComparison.Ordinal);
        Assert.Contains("is not signed", update.Output, StringComparison.Ordinal);
        var install = await apt.InstallDownloadOnlyAsync("hello");
        Assert.NotEqual(0, install.ExitCode);
        Assert.Contains("Unable to locate package hello", install.Output, StringComparison.Ordinal);
        Assert.Empty(apt.Fetched());
    }

    [Fact]
    public async Task A_tampered_deb_is_never_served()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl("tampereddeb"), AptPassThroughFixture.Suite, fixture.ApplianceKeyPath);
        var update = await apt.UpdateAsync();
        Assert.True(update.ExitCode == 0 && !update.Output.Contains("E:", StringComparison.Ordinal), Describe(update));
        // Upstream published only Packages.xz: read through the in-process xz reader and listed.
        Assert.True(File.Exists(Path.Combine(fixture.Root, "tampereddeb", "dists", "stable", "main", "binary-amd64", "Packages.xz")));
        Assert.Contains("Package: payload\n", await Http.GetStringAsync(new Uri(fixture.RepositoryUrl("tampereddeb"), "dists/stable/main/binary-amd64/Packages")), StringComparison.Ordinal);

        var install = await apt.InstallDownloadOnlyAsync("payload");

        Assert.NotEqual(0, install.ExitCode);
        Assert.Empty(apt.Fetched());
        using var direct = await Http.GetAsync(new Uri(fixture.RepositoryUrl("tampereddeb"), "pool/main/" + AptPassThroughFixture.TamperedDeb));
        Assert.Equal(HttpStatusCode.BadGateway, direct.StatusCode);
        Assert.Contains("SHA-256", await direct.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var health = await AptHealthAsync();
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("failed verification", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tampered_packages_index_is_never_served()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl("tamperedindex"), AptPassThroughFixture.Suite, fixture.ApplianceKeyPath);

        var update = await apt.UpdateAsync();

        Assert.Contains("503", update.Output, StringComparison.Ordinal);
        var install = await apt.InstallDownloadOnlyAsync("smuggled");
        Assert.Contains("Unable to locate package smuggled", install.Output, StringComparison.Ordinal);
        using var packages = await Http.GetAsync(new Uri(fixture.RepositoryUrl("tamperedindex"), "dists/stable/main/binary-amd64/Packages"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, packages.StatusCode);
        var suite = (await AptHealthAsync()).GetProperty("apt").GetProperty("suites").GetProperty("tamperedindex/dists/stable");
        Assert.Contains("does not match the signed Release", suite.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, suite.GetProperty("publishedAt").ValueKind);
    }

    [Fact]
    public async Task A_release_signed_by_an_unknown_key_is_never_served()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl("foreign"), AptPassThroughFixture.Suite, fixture.ApplianceKeyPath);

        var update = await apt.UpdateAsync();

        Assert.Contains("503", update.Output, StringComparison.Ordinal);
        var install = await apt.InstallDownloadOnlyAsync("stranger");
        Assert.Contains("Unable to locate package stranger", install.Output, StringComparison.Ordinal);
        using var pool = await Http.GetAsync(new Uri(fixture.RepositoryUrl("foreign"), "pool/main/stranger_1.0_all.deb"));
        Assert.Equal(HttpStatusCode.NotFound, pool.StatusCode);
        var health = await AptHealthAsync();
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var error = health.GetProperty("apt").GetProperty("suites").GetProperty("foreign/dists/stable").GetProperty("lastError").GetString();
        Assert.Contains("Release.gpg", error, StringComparison.Ordinal);
        Assert.Contains("not valid with the configured UpstreamKeyring", error, StringComparison.Ordinal);
    }
}
