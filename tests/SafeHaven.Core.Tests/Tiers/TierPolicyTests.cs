using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tests.Advisories;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Core.Tests.Tiers;

public sealed class TierPolicyTests : IDisposable
{
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);
    private static readonly TimeSpan SixWeeks = TimeSpan.FromDays(42);
    private static readonly EcosystemPolicyTraits PyPI = new("PyPI", (a, b) => a == b);

    // requests 2.31.0 was uploaded 2023-05-22T15:12:42Z; the clock is set relative to it.
    private static readonly DateTimeOffset Uploaded = new(2023, 5, 22, 15, 12, 42, TimeSpan.Zero);

    private readonly AdvisoryFolder _folder;
    private readonly AdvisoryIndex _advisories;

    public TierPolicyTests()
    {
        _folder = new AdvisoryFolder().With("GHSA-j8r2-6x86-q33q.json", OsvFixtures.RequestsGhsa)
            .With("last-affected.json", OsvFixtures.LastAffectedOnly);
        _advisories = AdvisoryIndex.Load(_folder.Path, TierPolicyProvider.NormalizeForEcosystem);
    }

    public void Dispose() => _folder.Dispose();

    private TierPolicy Policy(int tier) => new(tier, Week, SixWeeks, _advisories);

    private static VersionFacts Facts(string version, DateTimeOffset? published, string package = "requests") =>
        new("pypi", package, version, published);

    [Theory]
    [InlineData(-1)]
    [InlineData(5)]
    public void TiersAreZeroToFour(int tier)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TierPolicy(tier, Week, SixWeeks, AdvisoryIndex.Empty));
    }

    [Theory]
    [InlineData(0, false, false)]
    [InlineData(1, false, false)]
    [InlineData(2, true, false)]
    [InlineData(3, true, true)]
    [InlineData(4, true, true)]
    public void WhatEachTierApplies(int tier, bool quarantine, bool allowlist)
    {
        var policy = Policy(tier);

        Assert.Equal(quarantine, policy.AppliesQuarantine);
        Assert.Equal(allowlist, policy.RequiresAllowlist);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void TiersZeroAndOnePassEverythingThrough(int tier)
    {
        var policy = Policy(tier);

        // Uploaded a second ago, with no date at all, or from the future: all served.
        foreach (DateTimeOffset? published in new DateTimeOffset?[] { Uploaded, null, Uploaded.AddDays(1) })
        {
            var decision = policy.EvaluateVersion(Facts("2.30.0", published), PyPI, Uploaded.AddSeconds(1));

            Assert.True(decision.Visible);
            Assert.Equal(VersionDecision.PassThrough, decision.Code);
            Assert.Null(decision.ChangesAt);
            Assert.Contains($"tier {tier}", decision.Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void QuarantineHoldsANewVersionUntilItIsOldEnough(int tier)
    {
        var policy = Policy(tier);
        var now = Uploaded.AddDays(3);

        var decision = policy.EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, now);

        Assert.False(decision.Visible);
        Assert.Equal(VersionDecision.Quarantined, decision.Code);
        Assert.Equal(Uploaded + Week, decision.VisibleFrom);
        Assert.Equal(Uploaded + Week, decision.ChangesAt);
        Assert.Contains("requests 2.30.0", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("2023-05-29 15:12", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("7-day", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void BoundaryIsExactlyTheMinimumAge(int tier)
    {
        var policy = Policy(tier);

        var justBefore = policy.EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, Uploaded + Week - TimeSpan.FromTicks(1));
        var atTheBoundary = policy.EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, Uploaded + Week);
        var after = policy.EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, Uploaded + Week + TimeSpan.FromDays(100));

        Assert.False(justBefore.Visible);
        Assert.Equal(VersionDecision.Quarantined, justBefore.Code);
        Assert.True(atTheBoundary.Visible);
        Assert.Equal(VersionDecision.Aged, atTheBoundary.Code);
        Assert.Null(atTheBoundary.ChangesAt);
        Assert.True(after.Visible);
        Assert.Equal(VersionDecision.Aged, after.Code);
        Assert.Contains("2023-05-22", after.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void NoUploadDateMeansHidden(int tier)
    {
        var decision = Policy(tier).EvaluateVersion(Facts("2.30.0", null), PyPI, Uploaded.AddYears(5));

        Assert.False(decision.Visible);
        Assert.Equal(VersionDecision.NoUploadDate, decision.Code);
        Assert.Null(decision.ChangesAt);
        Assert.Contains("no upload date", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AVersionAnAdvisoryNamesAsFixedIsFastTracked(int tier)
    {
        var decision = Policy(tier).EvaluateVersion(Facts("2.31.0", Uploaded), PyPI, Uploaded.AddHours(1));

        Assert.True(decision.Visible);
        Assert.Equal(VersionDecision.FastTracked, decision.Code);
        Assert.Null(decision.ChangesAt);
        Assert.Contains("GHSA-j8r2-6x86-q33q", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2.3.0")]    // introduced: the first affected version
    [InlineData("2.30.0")]   // affected
    [InlineData("2.31.1")]   // later than the fix, but not named by the advisory
    public void OnlyTheFixedVersionIsFastTracked(string version)
    {
        var decision = Policy(2).EvaluateVersion(Facts(version, Uploaded), PyPI, Uploaded.AddHours(1));

        Assert.False(decision.Visible);
        Assert.Equal(VersionDecision.Quarantined, decision.Code);
    }

    [Fact]
    public void FastTrackIsPerPackageAndPerEcosystem()
    {
        var policy = Policy(2);

        var otherPackage = policy.EvaluateVersion(Facts("2.31.0", Uploaded, package: "requests-toolbelt"), PyPI, Uploaded.AddHours(1));
        var otherEcosystem = policy.EvaluateVersion(new VersionFacts("nuget", "requests", "2.31.0", Uploaded),
            new EcosystemPolicyTraits("NuGet", (a, b) => a == b), Uploaded.AddHours(1));

        Assert.Equal(VersionDecision.Quarantined, otherPackage.Code);
        Assert.Equal(VersionDecision.Quarantined, otherEcosystem.Code);
    }

    [Fact]
    public void LastAffectedDoesNotFastTrack()
    {
        var decision = Policy(2).EvaluateVersion(Facts("6.0", Uploaded, package: "zope-interface"), PyPI, Uploaded.AddHours(1));

        Assert.Equal(VersionDecision.Quarantined, decision.Code);
    }

    [Fact]
    public void FastTrackUsesTheEcosystemsVersionEquality()
    {
        var pep440ish = new EcosystemPolicyTraits("PyPI", (fixedVersion, version) => fixedVersion == version || fixedVersion + ".0" == version);

        var exact = Policy(2).EvaluateVersion(Facts("2.31.0.0", Uploaded), PyPI, Uploaded.AddHours(1));
        var equivalent = Policy(2).EvaluateVersion(Facts("2.31.0.0", Uploaded), pep440ish, Uploaded.AddHours(1));

        Assert.Equal(VersionDecision.Quarantined, exact.Code);
        Assert.Equal(VersionDecision.FastTracked, equivalent.Code);
    }

    [Fact]
    public void AnAgedFixIsReportedAsAgedNotFastTracked()
    {
        var decision = Policy(2).EvaluateVersion(Facts("2.31.0", Uploaded), PyPI, Uploaded.AddDays(30));

        Assert.Equal(VersionDecision.Aged, decision.Code);
    }

    [Fact]
    public void ZeroMinimumAgeShowsEverythingDated()
    {
        var policy = new TierPolicy(2, TimeSpan.Zero, SixWeeks, AdvisoryIndex.Empty);

        var decision = policy.EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, Uploaded);

        Assert.True(decision.Visible);
        Assert.Equal(VersionDecision.Aged, decision.Code);
    }

    [Fact]
    public void AVersionDatedInTheFutureWaitsForItsOwnDatePlusTheDelay()
    {
        var decision = Policy(2).EvaluateVersion(Facts("2.30.0", Uploaded.AddDays(2)), PyPI, Uploaded);

        Assert.False(decision.Visible);
        Assert.Equal(Uploaded.AddDays(2) + Week, decision.VisibleFrom);
    }

    [Fact]
    public void ReasonsGiveTimesInUtc()
    {
        // 23:30 at UTC-5 on 1 March is 04:30Z on 2 March; a reason that says "Z" must mean it.
        var published = new DateTimeOffset(2024, 3, 1, 23, 30, 0, TimeSpan.FromHours(-5));
        var policy = Policy(2);

        var held = policy.EvaluateVersion(Facts("2.30.0", published), PyPI, published.AddDays(1));
        var aged = policy.EvaluateVersion(Facts("2.30.0", published), PyPI, published.AddDays(10));

        Assert.Contains("uploaded 2024-03-02 04:30Z", held.Reason, StringComparison.Ordinal);
        Assert.Contains("until 2024-03-09 04:30Z", held.Reason, StringComparison.Ordinal);
        Assert.Equal(published + Week, held.VisibleFrom);
        Assert.Contains("2024-03-02", aged.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CodesAreTheDocumentedConstants()
    {
        Assert.Equal("pass-through", VersionDecision.PassThrough);
        Assert.Equal("aged", VersionDecision.Aged);
        Assert.Equal("fast-tracked", VersionDecision.FastTracked);
        Assert.Equal("quarantined", VersionDecision.Quarantined);
        Assert.Equal("no-upload-date", VersionDecision.NoUploadDate);
    }

    [Fact]
    public void ReasonsArePlainWords()
    {
        var now = Uploaded.AddDays(1);
        var decisions = new[]
        {
            Policy(0).EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, now),
            Policy(2).EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, now),
            Policy(2).EvaluateVersion(Facts("2.30.0", Uploaded), PyPI, Uploaded.AddDays(8)),
            Policy(3).EvaluateVersion(Facts("2.31.0", Uploaded), PyPI, now),
            Policy(4).EvaluateVersion(Facts("2.30.0", null), PyPI, now),
        };

        foreach (var decision in decisions)
        {
            Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
            // No type names, TimeSpan renderings ("7.00:00:00") or unformatted placeholders.
            Assert.DoesNotContain("SafeHaven.", decision.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("00:00:00", decision.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("{", decision.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("+00:00", decision.Reason, StringComparison.Ordinal);
            Assert.StartsWith("tier ", decision.Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void MaliciousVersionIsRefusedAtEveryTierHoweverOld(int tier)
    {
        using var folder = new AdvisoryFolder().With("MAL-2024-1234.json", OsvFixtures.MaliciousVersions)
            .With("GHSA-j8r2-6x86-q33q.json", OsvFixtures.RequestsGhsa);
        var policy = new TierPolicy(tier, Week, SixWeeks, AdvisoryIndex.Load(folder.Path, TierPolicyProvider.NormalizeForEcosystem));
        var old = Uploaded.AddYears(-1);

        var decision = policy.EvaluateVersion(Facts("1.0.2", old, "requestz"), PyPI, Uploaded);

        Assert.False(decision.Visible);
        Assert.Equal(VersionDecision.Malicious, decision.Code);
        Assert.Contains("MAL-2024-1234", decision.Reason);
        Assert.Contains("requestz 1.0.2", decision.Reason);
        Assert.Null(decision.ChangesAt); // never becomes visible by waiting
        // Other versions of the same package, and other packages, are decided as before.
        Assert.True(policy.EvaluateVersion(Facts("1.0.0", old, "requestz"), PyPI, Uploaded).Visible);
        Assert.True(policy.EvaluateVersion(Facts("2.31.0", old), PyPI, Uploaded).Visible);
    }

    [Fact]
    public void MaliciousWinsOverTheVulnerabilityFastTrack()
    {
        using var folder = new AdvisoryFolder().With("GHSA-j8r2-6x86-q33q.json", OsvFixtures.RequestsGhsa)
            .With("mal.json", """
                { "id": "MAL-2099-7", "affected": [ { "package": { "ecosystem": "PyPI", "name": "requests" }, "versions": ["2.31.0"] } ] }
                """);
        var policy = new TierPolicy(2, Week, SixWeeks, AdvisoryIndex.Load(folder.Path, TierPolicyProvider.NormalizeForEcosystem));

        var decision = policy.EvaluateVersion(Facts("2.31.0", Uploaded), PyPI, Uploaded.AddHours(1));

        Assert.Equal(VersionDecision.Malicious, decision.Code);
        Assert.Contains("MAL-2099-7", decision.Reason);
    }
}
