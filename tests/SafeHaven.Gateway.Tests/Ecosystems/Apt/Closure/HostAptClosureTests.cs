using System.Text.RegularExpressions;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;
using SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Closure;

/// <summary>
/// A real-world check of the closure: every suite this machine's apt knows (<c>/var/lib/apt/lists</c>) for its
/// native architecture forms one universe, as a mirror of those suites at Tier 0 would, and an allowlist of common
/// packages closes over it. A Debian suite is self-contained, so nothing may come back unsatisfied.
/// </summary>
public sealed class HostAptClosureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [HostAptListsFact("_Packages")]
    public async Task Closes_common_packages_over_the_hosts_own_suites_without_unsatisfied_dependencies()
    {
        var native = Environment.GetEnvironmentVariable("SAFEHAVEN_TEST_DEB_ARCH") ?? "amd64";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var packages = new List<AptPackage>();
        foreach (var file in HostAptListsTests.Files(HostAptListsTests.PackagesPattern)
            .Where(f => Regex.IsMatch(Path.GetFileName(f), $"_binary-{native}_Packages")))
        {
            var (stream, process) = HostAptListsTests.Open(file);
            await using (stream)
            {
                await foreach (var paragraph in Deb822Reader.ReadAsync(stream, new Deb822Limits(), CancellationToken.None))
                {
                    packages.Add(AptPackage.FromParagraph(paragraph, native));
                }
            }
            if (process is not null)
            {
                await process.WaitForExitAsync();
                process.Dispose();
            }
        }
        Assert.True(packages.Count > 0, $"no {native} Packages index among this machine's apt lists");
        output.WriteLine($"read {packages.Count} entries in {watch.Elapsed}");
        var universe = new AptUniverse(packages, native);
        output.WriteLine($"universe in {watch.Elapsed}");
        var wanted = new[] { "apt", "coreutils", "python3", "perl", "openssh-client", "curl", "build-essential", "r-base-core", "libssl-dev", "git" }
            .Where(n => universe.Candidate(n) is not null)
            .ToArray();

        var closure = await AllowlistClosure.BuildAsync(
            "apt", Allowlist.Parse(wanted, n => n), new AptClosureSource(_ => ValueTask.FromResult(universe)),
            DateTimeOffset.UtcNow, CancellationToken.None);

        output.WriteLine($"closure of {closure.Packages.Count} in {watch.Elapsed}");
        Assert.NotEmpty(wanted);
        Assert.Empty(closure.Unsatisfied.Select(u => $"{string.Join(" -> ", u.Path)}: {u.Reason}"));
        Assert.Contains("libc6", closure.Packages);
        Assert.Contains("dpkg", closure.ImplicitRoots); // Essential: yes
        Assert.All(wanted, n => Assert.Contains(n, closure.Packages));
        Assert.True(closure.Packages.Count < universe.Names.Count() / 4, $"the closure of {wanted.Length} packages took {closure.Packages.Count} of {universe.Names.Count()}");
    }
}
