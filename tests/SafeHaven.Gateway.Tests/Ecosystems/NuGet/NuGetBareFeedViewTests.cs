using NuGet.Frameworks;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.NuGet;

namespace SafeHaven.Gateway.Tests.Ecosystems.NuGet;

/// <summary>A bare feed's versions (no published, no hash, no dependency groups) under the one date rule.</summary>
public sealed class NuGetBareFeedViewTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static NuGetLeaf Bare(string version) => new() { Id = "Some.Lib", Version = version };

    private static PolicySnapshot Policy(int tier) =>
        new(1, new TierPolicy(tier, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty), new Dictionary<string, Allowlist>());

    private static NuGetVersionFacts Verified(DateTimeOffset? signedAt, params NuGetDependencyGroup[] groups) =>
        new(signedAt, signedAt is null ? null : "AB", groups, Now);

    [Fact]
    public void Without_trusted_signers_nothing_of_a_bare_feed_is_listed_at_any_tier()
    {
        var state = new NuGetPackageState("some.lib", [Bare("1.0.0")]);
        foreach (var tier in new[] { 0, 2 })
        {
            var view = new NuGetPackageView(state, Policy(tier), null, Now, NuGetKnowledge.None);
            Assert.Empty(view.Visible);
            Assert.Equal(VersionDecision.Unverifiable, view.Decisions["1.0.0"].Code);
            Assert.Contains("no trusted signers are configured", view.Decisions["1.0.0"].Reason, StringComparison.Ordinal);
            Assert.Equal(1, view.HiddenByCode[VersionDecision.Unverifiable]);
        }
    }

    [Fact]
    public void The_signature_timestamp_dates_a_version_else_first_seen_holds_it_as_undated()
    {
        var state = new NuGetPackageState("some.lib", [Bare("1.0.0"), Bare("2.0.0"), Bare("3.0.0")]);
        var knowledge = new NuGetKnowledge(
            new Dictionary<string, NuGetVersionFacts>
            {
                ["1.0.0"] = Verified(Now.AddDays(-30)),
                ["2.0.0"] = Verified(Now.AddDays(-2)),
            },
            new Dictionary<string, string>(),
            new Dictionary<string, DateTimeOffset> { ["3.0.0"] = Now.AddHours(-1) },
            TrustedSignersConfigured: true, Generation: 3);

        var view = new NuGetPackageView(state, Policy(2), null, Now, knowledge);

        Assert.Equal(["1.0.0"], view.Visible.Select(e => e.Normalized));
        Assert.Equal(VersionDecision.Quarantined, view.Decisions["2.0.0"].Code);
        Assert.Equal(VersionDecision.NoUploadDate, view.Decisions["3.0.0"].Code);
        Assert.Contains("first seen here", view.Decisions["3.0.0"].Reason, StringComparison.Ordinal);
        Assert.Equal(NuGetDateSource.RepositorySignature, view.Dates["1.0.0"].Source);
        // The date used is what the registration says; never the 1900 placeholder.
        Assert.StartsWith(Now.AddDays(-30).UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), view.PublishedText(view.Visible[0]), StringComparison.Ordinal);
        Assert.Equal(Now.AddDays(5), view.ValidUntil); // 2.0.0 leaves its quarantine first
    }

    [Fact]
    public void A_refused_package_is_hidden_with_the_reason_and_unknown_dependencies_stay_unknown()
    {
        var state = new NuGetPackageState("some.lib", [Bare("1.0.0"), Bare("2.0.0")]);
        var groups = new NuGetDependencyGroup("net8.0", [new NuGetDependency("Other.Lib", "[1.0.0, )")]);
        var knowledge = new NuGetKnowledge(
            new Dictionary<string, NuGetVersionFacts> { ["1.0.0"] = Verified(Now.AddDays(-30), groups) },
            new Dictionary<string, string> { ["2.0.0"] = "the package content does not match its signature" },
            new Dictionary<string, DateTimeOffset>(), true, 1);

        var view = new NuGetPackageView(state, Policy(0), null, Now, knowledge);

        Assert.Equal(["1.0.0"], view.Visible.Select(e => e.Normalized));
        Assert.Contains("does not match its signature", view.Decisions["2.0.0"].Reason, StringComparison.Ordinal);
        Assert.Equal("Other.Lib", view.DependencyGroupsOf(view.Visible[0])!.Single().Dependencies.Single().Id);
        Assert.Null(view.DependencyGroupsOf(state.ByVersion["2.0.0"]));
    }

    [Fact]
    public void With_target_frameworks_only_the_group_restore_would_pick_is_followed()
    {
        IReadOnlyList<NuGetDependencyGroup> groups =
        [
            new(".NETFramework4.7.2", [new NuGetDependency("System.Memory", "[4.5.5, )")]),
            new("net6.0", []),
            new("netstandard2.0", [new NuGetDependency("System.Buffers", "[4.5.1, )")]),
        ];

        Assert.Equal(["net6.0"], NuGetClosureSource.Applicable(groups, [NuGetFramework.Parse("net10.0")]).Select(g => g.TargetFramework));
        Assert.Equal(3, NuGetClosureSource.Applicable(groups, []).Count());
        Assert.Empty(NuGetClosureSource.Dependencies(NuGetClosureSource.Applicable(groups, [NuGetFramework.Parse("net10.0")])));
    }
}
