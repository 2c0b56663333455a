using System.Text.RegularExpressions;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;
using SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Closure;

/// <summary>
/// The closure on real data: every suite this machine's apt knows (<c>/var/lib/apt/lists</c>), for its native
/// architecture, as one universe (what a Tier 0 mirror of those suites serves).
/// <para>Against apt itself: for a package of this machine's own suites, <c>apt-get install --simulate</c> on
/// an empty system (an empty dpkg status file, no Recommends) names exactly what apt would install; the closure of that
/// package alone (without the implicit Essential/required roots, which apt takes as installed) must name the same set.
/// The packages are chosen for their alternatives and virtual packages: R (the paper's case, many C/Fortran
/// libraries), mutt (<c>default-mta | mail-transport-agent</c>), OpenBLAS (<c>libblas.so.3</c>-style alternatives).
/// </para>
/// <para>At scale: common packages close without anything unsatisfied (a Debian suite is self-contained).</para>
/// Skipped where this machine's apt has no lists.
/// </summary>
public sealed class HostAptClosureTests(HostUniverse hostUniverse, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<HostUniverse>
{
    /// <summary>The apt closure without implicit roots, as apt sees an install on an empty status.</summary>
    private sealed class WithoutImplicitRoots(AptClosureSource inner) : IClosureSource
    {
        public Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken) => inner.ResolveAsync(request, cancellationToken);

        public Task<ClosureResolution> ResolveAsync(ClosureRequest request, IReadOnlySet<string> included, CancellationToken cancellationToken) =>
            inner.ResolveAsync(request, included, cancellationToken);

        public Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken) =>
            inner.GetDependenciesAsync(node, cancellationToken);
    }

    [HostAptListsFact("_Packages")]
    public async Task Closes_a_package_over_what_apt_get_would_install_on_an_empty_system()
    {
        var universe = await hostUniverse.GetAsync();
        Assert.True(universe is not null, "no Packages index for this machine's architecture among its apt lists");
        var status = Path.GetTempFileName();
        var compared = 0;
        try
        {
            foreach (var root in new[] { "r-base-core", "mutt", "libopenblas-dev" }.Where(r => universe.Candidate(r) is not null))
            {
                var simulated = DebianArchive.Run("apt-get",
                    ["-s", "-o", $"Dir::State::status={status}", "-o", "Debug::NoLocking=1", "-o", "APT::Install-Recommends=false", "install", root], Path.GetTempPath());
                var apt = simulated.Split('\n').Where(l => l.StartsWith("Inst ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1].Split(':')[0]).ToHashSet(StringComparer.Ordinal);

                var closure = await AllowlistClosure.BuildAsync("apt", Allowlist.Parse([root], n => n),
                    new WithoutImplicitRoots(new AptClosureSource(_ => ValueTask.FromResult(universe))), DateTimeOffset.UtcNow, CancellationToken.None);

                output.WriteLine($"{root}: apt installs {apt.Count}, closure has {closure.Packages.Count}");
                output.WriteLine("  only apt: " + string.Join(' ', apt.Except(closure.Packages).Order(StringComparer.Ordinal)));
                output.WriteLine("  only closure: " + string.Join(' ', closure.Packages.Except(apt).Order(StringComparer.Ordinal)));
                Assert.Empty(closure.Unsatisfied.Select(u => $"{string.Join(" -> ", u.Path)}: {u.Reason}"));
                Assert.Equal(apt.Order(StringComparer.Ordinal), closure.Packages.Order(StringComparer.Ordinal));
                compared++;
            }
        }
        finally
        {
            File.Delete(status);
        }
        Assert.True(compared > 0, "none of the packages compared is in this machine's suites");
    }

    [HostAptListsFact("_Packages")]
    public async Task Closes_common_packages_over_the_hosts_own_suites_without_unsatisfied_dependencies()
    {
        var universe = await hostUniverse.GetAsync();
        Assert.True(universe is not null, "no Packages index for this machine's architecture among its apt lists");
        var wanted = new[] { "apt", "coreutils", "python3", "perl", "openssh-client", "curl", "build-essential", "r-base-core", "libssl-dev", "git" }
            .Where(n => universe.Candidate(n) is not null)
            .ToArray();

        var closure = await AllowlistClosure.BuildAsync(
            "apt", Allowlist.Parse(wanted, n => n), new AptClosureSource(_ => ValueTask.FromResult(universe)),
            DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.NotEmpty(wanted);
        Assert.Empty(closure.Unsatisfied.Select(u => $"{string.Join(" -> ", u.Path)}: {u.Reason}"));
        Assert.Contains("libc6", closure.Packages);
        Assert.Contains("dpkg", closure.ImplicitRoots); // Essential: yes
        Assert.All(wanted, n => Assert.Contains(n, closure.Packages));
        Assert.True(closure.Packages.Count < universe.Names.Count() / 4, $"the closure of {wanted.Length} packages took {closure.Packages.Count} of {universe.Names.Count()}");
    }
}

/// <summary>Every suite this machine's apt knows, for its native architecture, read once for the tests of a class.</summary>
public sealed class HostUniverse
{
    private readonly Lazy<Task<AptUniverse?>> _universe = new(LoadAsync);

    public Task<AptUniverse?> GetAsync() => _universe.Value;

    private static async Task<AptUniverse?> LoadAsync()
    {
        var native = DebianArchive.Run("dpkg", ["--print-architecture"], Path.GetTempPath()).Trim();
        var packages = new List<AptPackage>();
        foreach (var file in HostAptListsTests.Files(HostAptListsTests.PackagesPattern).Where(f => Regex.IsMatch(Path.GetFileName(f), $"_binary-{native}_Packages")))
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
        return packages.Count == 0 ? null : new AptUniverse(packages, native);
    }
}
