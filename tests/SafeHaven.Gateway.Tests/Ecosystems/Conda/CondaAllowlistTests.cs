using System.Net;
using System.Text.Json.Nodes;
using SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda;

/// <summary>
/// Tier 3: only the allowlist closed over <c>depends</c> (conda MatchSpecs: version ranges, build globs, <c>|</c>
/// alternatives, virtual packages) across <c>noarch</c> and <c>linux-64</c>. The upstream is a conda-forge style channel
/// (<c>packages.conda</c>, ms timestamps, no base_url) holding the handful of records each dependency path needs;
/// left out on purpose: run_exports, channeldata, every record nothing here depends on.
/// </summary>
public sealed class CondaAllowlistTests
{
    private static readonly long Old = DateTimeOffset.UtcNow.AddDays(-100).ToUnixTimeMilliseconds();

    private sealed record Package(string Subdir, string Name, string Version, string Build, string[] Depends, string[]? Constrains = null);

    private static readonly Package[] Packages =
    [
        new("linux-64", "numpy", "2.0.0", "py312h22e1c76_0", ["libblas >=3.9.0,<4.0a0", "python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312", "__glibc >=2.17,<3.0.a0", "libgcc >=13"]),
        new("linux-64", "numpy", "1.26.4", "py311h64a7726_0", ["python >=3.11,<3.12.0a0", "missing-only-for-old-numpy"]),
        new("linux-64", "libblas", "3.9.0", "20_linux64_openblas", ["libopenblas >=0.3.27,<1.0a0"]),
        new("linux-64", "libopenblas", "0.3.27", "pthreads_hac2b453_1", ["libgcc >=13"]),
        new("linux-64", "python", "3.12.4", "h194c7f8_0_cpython", ["libgcc >=13", "openssl >=3.3.1,<4.0a0|1.1.1.*", "tzdata"]),
        new("linux-64", "python", "3.11.9", "hb806964_0_cpython", ["libgcc >=12"]),
        new("linux-64", "python_abi", "3.12", "4_cp312", []),
        new("linux-64", "python_abi", "3.12", "4_cp312t", []),
        new("linux-64", "libgcc", "14.1.0", "h77fa898_0", []),
        new("linux-64", "openssl", "3.3.2", "hb9d3cd8_0", []),
        new("linux-64", "curl", "8.9.1", "hdb1bdb2_0", []),
        new("noarch", "tzdata", "2024b", "hc8b5060_0", []),
        new("noarch", "six", "1.16.0", "pyh6c4a22f_0", ["python >=3.6"]),
        new("noarch", "scipy-stub", "1.0", "0", ["libfoo >=9", "python >=3.12|3.11.*"]),
        new("noarch", "b", "2.0", "0", []),
        new("noarch", "a", "2.0", "0", ["d"], ["b <2"]),
        new("noarch", "a", "1.0", "0", ["c"]),
        new("noarch", "c", "1.0", "0", []),
        new("noarch", "d", "1.0", "0", []),
    ];

    private static async Task<(CondaChannelFixture Upstream, CondaGatewayHost Host)> StartAsync(string allowlist)
    {
        var upstream = await CondaChannelFixture.StartAsync();
        foreach (var subdir in new[] { "noarch", "linux-64" })
        {
            var records = new JsonObject();
            foreach (var package in Packages.Where(p => p.Subdir == subdir))
            {
                var file = upstream.AddFile(subdir, $"{package.Name}-{package.Version}-{package.Build}.conda");
                records[file.Filename] = CondaChannelFixture.Record(file, package.Name, package.Version, package.Build, timestamp: Old,
                    depends: package.Depends, constrains: package.Constrains);
            }
            upstream.WriteRepodata(subdir, new JsonObject
            {
                ["info"] = new JsonObject { ["subdir"] = subdir },
                ["packages"] = new JsonObject(),
                ["packages.conda"] = records,
                ["repodata_version"] = 1,
            });
        }
        var data = Directory.CreateTempSubdirectory("safehaven-conda-").FullName;
        var allowlistFile = Path.Combine(data, "conda-allowlist.txt");
        await File.WriteAllTextAsync(allowlistFile, allowlist);
        var settings = upstream.Settings("noarch", "linux-64");
        settings["SafeHaven:Policy:AllowlistFiles:conda"] = allowlistFile;
        var host = await CondaGatewayHost.StartAsync(3, settings, data);
        await host.RefreshAsync();
        return (upstream, host);
    }

    private static async Task<HashSet<string>> ListedAsync(CondaGatewayHost host)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var subdir in new[] { "noarch", "linux-64" })
        {
            var repodata = JsonNode.Parse(await host.Client.GetStringAsync($"/conda/forge/{subdir}/repodata.json"))!;
            foreach (var (filename, _) in repodata["packages.conda"]!.AsObject())
            {
                names.Add(filename);
            }
        }
        return names;
    }

    [Fact]
    public async Task The_allowlist_is_closed_over_depends_with_version_ranges_build_globs_alternatives_and_virtual_packages()
    {
        var (upstream, host) = await StartAsync("numpy\nsix\n");
        await using var _ = upstream;
        await using var __ = host;

        var listed = await ListedAsync(host);
        var names = listed.Select(f => f[..f.IndexOf('-', StringComparison.Ordinal)]).ToHashSet();
        // numpy -> libblas -> libopenblas -> libgcc; python (>=3.12) -> openssl (first alternative), tzdata (noarch); python_abi by build glob.
        Assert.Equal(["libblas", "libgcc", "libopenblas", "numpy", "openssl", "python", "python_abi", "six", "tzdata"], names.Order(StringComparer.Ordinal));
        // The closure is by name: every record of a name in it is listed (a solver may still pick an older one).
        Assert.Contains("numpy-1.26.4-py311h64a7726_0.conda", listed);
        Assert.Contains("python_abi-3.12-4_cp312t.conda", listed);
        Assert.DoesNotContain(listed, f => f.StartsWith("curl-", StringComparison.Ordinal));

        var closure = JsonNode.Parse(await host.Client.GetStringAsync("/api/mirrors/conda/closure"))!;
        var visible = closure["visible"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("python_abi", visible);
        Assert.DoesNotContain(visible, v => v.StartsWith("__", StringComparison.Ordinal));
        Assert.DoesNotContain("missing-only-for-old-numpy", visible); // only the record a solver would pick is followed
        Assert.Empty(closure["unsatisfied"]!.AsArray());

        using var hidden = await host.Client.GetAsync("/conda/forge/linux-64/curl-8.9.1-hdb1bdb2_0.conda");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal("not-allowlisted", hidden.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/conda/forge/linux-64/libopenblas-0.3.27-pthreads_hac2b453_1.conda")).StatusCode);
    }

    [Fact]
    public async Task Unsatisfiable_dependencies_are_reported_on_the_closure_endpoint_and_healthz()
    {
        var (upstream, host) = await StartAsync("scipy-stub\n__cuda\n");
        await using var _ = upstream;
        await using var __ = host;

        var closure = JsonNode.Parse(await host.Client.GetStringAsync("/api/mirrors/conda/closure"))!;
        var unsatisfied = closure["unsatisfied"]!.AsArray().Select(u => (Root: u!["root"]!.GetValue<string>(), Requirement: u["requirement"]!.GetValue<string>(), Reason: u["reason"]!.GetValue<string>())).ToList();
        Assert.Contains(unsatisfied, u => u.Root == "scipy-stub" && u.Requirement == "libfoo >=9" && u.Reason.Contains("no record of 'libfoo'", StringComparison.Ordinal));
        Assert.Contains(unsatisfied, u => u.Root == "__cuda" && u.Reason.Contains("virtual package", StringComparison.Ordinal));
        Assert.Equal(2, unsatisfied.Count);
        // The alternative "python >=3.12|3.11.*" is met by either python.
        Assert.Contains("python", closure["visible"]!.AsArray().Select(n => n!.GetValue<string>()));

        var health = await host.Client.GetStringAsync("/healthz");
        Assert.Contains("conda: 2 allowlist dependencies cannot be satisfied", health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constrains_steer_the_choice_to_a_record_that_can_be_installed_with_what_the_closure_holds()
    {
        // b 2.0 is approved first; a 2.0 constrains b <2, which no served b meets, so a solver installing both takes a 1.0:
        // the closure follows a 1.0's depends (c), not a 2.0's (d).
        var (upstream, host) = await StartAsync("b\na\n");
        await using var _ = upstream;
        await using var __ = host;

        var visible = JsonNode.Parse(await host.Client.GetStringAsync("/api/mirrors/conda/closure"))!["visible"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();

        Assert.Equal(["a", "b", "c"], visible.Order(StringComparer.Ordinal));
    }
}
