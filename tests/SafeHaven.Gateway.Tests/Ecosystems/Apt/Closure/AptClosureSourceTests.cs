using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Closure;

/// <summary>
/// The apt closure, run through the one policy engine (<see cref="AllowlistClosure.BuildAsync"/>) over in-memory
/// package universes written as <c>Packages</c> entries.
/// </summary>
public sealed class AptClosureSourceTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>A <c>Packages</c> entry; <paramref name="fields"/> are extra control lines such as <c>Depends: x</c>.</summary>
    internal static AptPackage Pkg(string name, string version, params string[] fields) => PkgArch(name, version, "amd64", fields);

    internal static AptPackage PkgArch(string name, string version, string architecture, params string[] fields)
    {
        var text = $"Package: {name}\nVersion: {version}\nArchitecture: {architecture}\n" + string.Concat(fields.Select(f => f + "\n"))
            + $"Filename: pool/main/{name[0]}/{name}/{name}_{version}_{architecture}.deb\nSize: 1000\nSHA256: {new string('a', 64)}\n";
        return AptPackage.FromParagraph(Deb822Reader.Parse(text).Single(), "amd64");
    }

    private static Task<AllowlistClosure> Close(IEnumerable<AptPackage> packages, params string[] allowlist) =>
        Close(new AptUniverse(packages, "amd64"), allowlist);

    private static Task<AllowlistClosure> Close(AptUniverse universe, params string[] allowlist) =>
        AllowlistClosure.BuildAsync(
            "apt", Allowlist.Parse(allowlist, n => TierPolicyProvider.NormalizeForEcosystem("apt", n)),
            new AptClosureSource(_ => ValueTask.FromResult(universe)), Now, CancellationToken.None);

    private static List<string> Sorted(AllowlistClosure closure) => closure.Packages.Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Takes_the_first_alternative_that_can_be_satisfied()
    {
        var closure = await Close(
            [
                Pkg("app", "1", "Depends: missing-mta | libold (>= 2) | postfix | exim4"),
                Pkg("libold", "1.5"),
                Pkg("postfix", "3.7"),
                Pkg("exim4", "4.96"),
            ],
            "app");

        Assert.Equal(["app", "postfix"], Sorted(closure));
        Assert.Empty(closure.Unsatisfied);
    }

    [Fact]
    public async Task Takes_an_alternative_already_in_the_closure()
    {
        var closure = await Close(
            [
                Pkg("first", "1", "Depends: exim4"),
                Pkg("second", "1", "Depends: postfix | exim4"),
                Pkg("postfix", "3.7"),
                Pkg("exim4", "4.96"),
            ],
            "first", "second");

        Assert.Equal(["exim4", "first", "second"], Sorted(closure));
    }

    [Fact]
    public async Task Resolves_a_virtual_package_to_its_only_provider()
    {
        var closure = await Close([Pkg("app", "1", "Depends: awk"), Pkg("mawk", "1.3.4", "Provides: awk", "Depends: libc6"), Pkg("libc6", "2.36")], "app");

        Assert.Equal(["app", "libc6", "mawk"], Sorted(closure));
        Assert.Equal(["app"], closure.RequiredBy["mawk"]);
    }

    [Fact]
    public async Task Resolves_a_virtual_package_with_several_providers_to_the_first_by_name_or_one_already_in()
    {
        AptPackage[] universe =
        [
            Pkg("app", "1", "Depends: mail-transport-agent"),
            Pkg("postfix", "3.7", "Provides: mail-transport-agent"),
            Pkg("exim4-daemon-light", "4.96", "Provides: mail-transport-agent"),
            Pkg("ssmtp", "2.64", "Provides: mail-transport-agent"),
        ];

        Assert.Equal(["app", "exim4-daemon-light"], Sorted(await Close(universe, "app")));
        Assert.Equal(["app", "postfix"], Sorted(await Close(universe, "postfix", "app")));
    }

    // apt's CompareProviders: Essential first, then Important: yes, then Priority (required first), then its cache order (here: name).
    [Fact]
    public async Task Orders_several_providers_as_apt_does()
    {
        AptPackage[] byPriority =
        [
            Pkg("app", "1", "Depends: mail-transport-agent"),
            Pkg("aaa-mta", "1", "Provides: mail-transport-agent", "Priority: optional"),
            Pkg("zzz-mta", "1", "Provides: mail-transport-agent", "Priority: standard"),
        ];
        Assert.Equal(["app", "zzz-mta"], Sorted(await Close(byPriority, "app")));

        AptPackage[] byEssential = [.. byPriority, Pkg("mmm-mta", "1", "Provides: mail-transport-agent", "Priority: extra", "Essential: yes")];
        Assert.Contains("mmm-mta", (await Close(byEssential, "app")).Packages);
    }

    [Fact]
    public async Task Skips_an_alternative_whose_own_dependencies_cannot_be_met_as_apt_does()
    {
        AptPackage[] universe =
        [
            Pkg("app", "1", "Depends: broken-mta | postfix"),
            Pkg("broken-mta", "1", "Depends: libgone1"),
            Pkg("postfix", "3.7", "Depends: libc6"),
            Pkg("libc6", "2.36"),
        ];
        var closure = await Close(universe, "app");
        Assert.Equal(["app", "libc6", "postfix"], Sorted(closure));
        Assert.Empty(closure.Unsatisfied);

        // When no alternative can be installed, the first is kept so that the real gap is reported with its path.
        var none = await Close([Pkg("app", "1", "Depends: broken-mta | other-broken"), Pkg("broken-mta", "1", "Depends: libgone1"), Pkg("other-broken", "1", "Depends: libgone2")], "app");
        var problem = Assert.Single(none.Unsatisfied);
        Assert.Equal(["app", "broken-mta | other-broken", "libgone1"], problem.Path);
    }

    [Fact]
    public async Task Prefers_the_real_package_to_a_provider_of_the_same_name()
    {
        var closure = await Close([Pkg("app", "1", "Depends: editor"), Pkg("editor", "1"), Pkg("another", "1", "Provides: editor")], "app");
        Assert.Equal(["app", "editor"], Sorted(closure));
    }

    [Fact]
    public async Task Honours_versioned_Provides()
    {
        AptPackage[] universe =
        [
            Pkg("app", "1", "Depends: libfoo-abi (>= 2)"),
            Pkg("needs-five", "1", "Depends: libfoo-abi (>= 5)"),
            Pkg("unversioned", "1", "Provides: libfoo-abi"),
            Pkg("old-abi", "1", "Provides: libfoo-abi (= 1)"),
            Pkg("new-abi", "1", "Provides: libfoo-abi (= 3)"),
        ];

        var closure = await Close(universe, "app", "needs-five");

        Assert.Equal(["app", "needs-five", "new-abi"], Sorted(closure));
        var problem = Assert.Single(closure.Unsatisfied);
        Assert.Equal(("needs-five", "libfoo-abi (>= 5)"), (problem.Root, problem.Requirement));
        Assert.Equal(["needs-five", "libfoo-abi"], problem.Path);
        Assert.Contains("unversioned Provides satisfies no versioned relation", problem.Reason, StringComparison.Ordinal);
        Assert.Contains("new-abi 1 (as libfoo-abi (= 3))", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_a_dependency_only_a_held_back_version_satisfies()
    {
        var held = Pkg("libx", "2.0-1");
        var universe = new AptUniverse(
            [Pkg("app", "1", "Depends: libx (>= 2.0)"), Pkg("libx", "1.0-1")], "amd64",
            [new HeldBackPackage(held, "quarantined until 2026-12-08")]);

        var closure = await Close(universe, "app");

        var problem = Assert.Single(closure.Unsatisfied);
        Assert.Equal(("app", "libx (>= 2.0)"), (problem.Root, problem.Requirement));
        Assert.Contains("the candidate version of 'libx' at this tier is 1.0-1", problem.Reason, StringComparison.Ordinal);
        Assert.Contains("held back by the tier: 2.0-1 (quarantined until 2026-12-08)", problem.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("libx", closure.Packages); // apt never falls back to another version, and 1.0-1 does not do
    }

    [Fact]
    public async Task Reports_a_missing_package_and_every_failed_alternative()
    {
        var closure = await Close([Pkg("app", "1", "Depends: nothere, gone | libx (>= 3)"), Pkg("libx", "1")], "app");

        Assert.Equal(2, closure.Unsatisfied.Count);
        Assert.Contains("no package 'nothere' is served at this tier, nor any package providing it", closure.Unsatisfied[0].Reason, StringComparison.Ordinal);
        Assert.Equal("gone | libx (>= 3)", closure.Unsatisfied[1].Requirement);
        Assert.Contains("'gone': no package", closure.Unsatisfied[1].Reason, StringComparison.Ordinal);
        Assert.Contains("'libx (>= 3)': the candidate version of 'libx' at this tier is 1", closure.Unsatisfied[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Needs_Multi_Arch_allowed_for_any()
    {
        var closure = await Close(
            [
                Pkg("tool", "1", "Depends: perl:any, python3:any, foreign-ok:any"),
                Pkg("perl", "5.36", "Multi-Arch: allowed"),
                Pkg("python3", "3.11", "Multi-Arch: no"),
                Pkg("foreign-ok", "1", "Multi-Arch: foreign"),
            ],
            "tool");

        Assert.Equal(["perl", "tool"], Sorted(closure));
        Assert.Equal(["python3:any", "foreign-ok:any"], closure.Unsatisfied.Select(u => u.Requirement));
        Assert.Contains("python3 3.11 is Multi-Arch: no, and ':any' needs Multi-Arch: allowed", closure.Unsatisfied[0].Reason, StringComparison.Ordinal);
        Assert.Contains("foreign-ok 1 is Multi-Arch: foreign", closure.Unsatisfied[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Honours_native_and_architecture_qualifiers()
    {
        var closure = await Close(
            [
                Pkg("tool", "1", "Depends: gcc:native, libc6:amd64, zlib1g:i386, tzdata:i386"),
                Pkg("gcc", "12"),
                Pkg("libc6", "2.36", "Multi-Arch: same"),
                Pkg("zlib1g", "1.2.13", "Multi-Arch: same"),
                PkgArch("tzdata", "2024a", "all", "Multi-Arch: foreign"),
                PkgArch("zlib1g", "1.2.13", "i386", "Multi-Arch: same"), // another architecture: not in an amd64 universe
            ],
            "tool");

        Assert.Equal(["gcc", "libc6", "tool", "tzdata"], Sorted(closure));
        var problem = Assert.Single(closure.Unsatisfied);
        Assert.Equal("zlib1g:i386", problem.Requirement);
        Assert.Contains("the packages served here are for amd64", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Always_adds_Essential_and_required_packages_with_their_dependencies()
    {
        AptPackage[] packages =
        [
            Pkg("dpkg", "1.21", "Essential: yes", "Priority: required", "Pre-Depends: tar (>= 1.28)"),
            Pkg("tar", "1.34", "Priority: required"),
            Pkg("base-files", "12.4", "Priority: required", "Pre-Depends: awk"),
            Pkg("mawk", "1.3.4", "Priority: required", "Provides: awk"),
            Pkg("gawk", "5.2", "Priority: optional", "Provides: awk"),
            Pkg("sed", "4.9", "Essential: yes"),
            Pkg("nano", "7.2", "Priority: important"),
            Pkg("app", "1"),
        ];
        var universe = new AptUniverse(packages, "amd64");
        Assert.Equal(["base-files", "dpkg", "mawk", "sed", "tar"], AptClosureSource.ImplicitRoots(universe));

        var closure = await Close(universe, "app");

        Assert.Equal(["app", "base-files", "dpkg", "mawk", "sed", "tar"], Sorted(closure));
        Assert.Equal(["app"], closure.Roots);
        Assert.Equal(["base-files", "dpkg", "mawk", "sed", "tar"], closure.ImplicitRoots);
        Assert.Empty(closure.Unsatisfied);
    }

    [Fact]
    public async Task Follows_Pre_Depends_like_Depends_and_survives_cycles()
    {
        var closure = await Close(
            [
                Pkg("a", "1", "Pre-Depends: b"),
                Pkg("b", "1", "Depends: c (>= 1) | d"),
                Pkg("c", "1", "Depends: a (= 1), b"),
            ],
            "a");

        Assert.Equal(["a", "b", "c"], Sorted(closure));
        Assert.Empty(closure.Unsatisfied);
    }

    [Fact]
    public async Task Resolves_roots_as_apt_get_install_does()
    {
        AptPackage[] universe =
        [
            Pkg("mawk", "1.3.4", "Provides: awk"),
            Pkg("postfix", "3.7", "Provides: mail-transport-agent"),
            Pkg("exim4-daemon-light", "4.96", "Provides: mail-transport-agent"),
            Pkg("libx", "1.0"),
        ];

        var closure = await Close(universe, "awk", "mail-transport-agent", "libx@>= 2", "nothere");

        Assert.Equal(["mawk"], Sorted(closure)); // "Note, selecting 'mawk' instead of 'awk'"
        Assert.Equal(["mail-transport-agent", "libx", "nothere"], closure.Unsatisfied.Select(u => u.Root));
        Assert.Contains("virtual package provided by exim4-daemon-light, postfix", closure.Unsatisfied[0].Reason, StringComparison.Ordinal);
        Assert.Contains("candidate version of 'libx' at this tier is 1.0", closure.Unsatisfied[1].Reason, StringComparison.Ordinal);
        Assert.Contains("no package 'nothere'", closure.Unsatisfied[2].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Installs_only_the_candidate_the_newest_version()
    {
        var closure = await Close(
            [
                Pkg("app", "1", "Depends: libz (<< 2)"),
                Pkg("libz", "2.0"),
                Pkg("libz", "1.9"), // apt does not backtrack to it
            ],
            "app");

        Assert.Contains("candidate version of 'libz' at this tier is 2.0", Assert.Single(closure.Unsatisfied).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_a_node_no_longer_in_the_universe()
    {
        var universe = new AptUniverse([Pkg("app", "1")], "amd64");
        var source = new AptClosureSource(_ => ValueTask.FromResult(universe));
        await Assert.ThrowsAsync<ClosureSourceException>(() => source.GetDependenciesAsync(new ClosureNode("app", "2", new HashSet<string>()), CancellationToken.None));
    }

    [Fact]
    public void Encodes_one_request_per_group_of_alternatives()
    {
        var groups = AptRelations.Parse("libc6 (>= 2.36), perl:any, a (>= 1) | b:any", "amd64");
        Assert.Equal(
            [("libc6", "(>= 2.36)"), ("perl:any", ""), ("a (>= 1) | b:any", "")],
            groups.Select(AptClosureSource.Request).Select(r => (r.Name, r.Constraint)));
    }
}
