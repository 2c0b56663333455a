using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Core.Tests.Advisories;

public sealed class AdvisoryIndexTests
{
    private static bool Exact(string left, string right) => left == right;

    private static AdvisoryIndex Load(AdvisoryFolder folder) =>
        AdvisoryIndex.Load(folder.Path, TierPolicyProvider.NormalizeForEcosystem);

    [Fact]
    public void MissingDirectoryIsEmpty()
    {
        var index = AdvisoryIndex.Load(Path.Combine(Path.GetTempPath(), "safehaven-no-such-" + Guid.NewGuid().ToString("N")),
            TierPolicyProvider.NormalizeForEcosystem);

        Assert.Equal(0, index.AdvisoryCount);
        Assert.Empty(index.Errors);
        Assert.Empty(index.FixesFor("PyPI", "requests", "2.31.0", Exact));
    }

    [Fact]
    public void ReadsTheFixedEventOfAnEcosystemRange()
    {
        using var folder = new AdvisoryFolder().With("GHSA-j8r2-6x86-q33q.json", OsvFixtures.RequestsGhsa);

        var index = Load(folder);

        Assert.Equal(1, index.AdvisoryCount);
        Assert.Empty(index.Errors);
        var fix = Assert.Single(index.FixesFor("PyPI", "requests", "2.31.0", Exact));
        Assert.Equal("GHSA-j8r2-6x86-q33q", fix.AdvisoryId);
        Assert.Equal("2.31.0", fix.FixedVersion);
        Assert.Equal("requests", fix.Package);
        // The introduced version is affected, not a fix; versions inside the range are not fixes either.
        Assert.Empty(index.FixesFor("PyPI", "requests", "2.3.0", Exact));
        Assert.Empty(index.FixesFor("PyPI", "requests", "2.30.0", Exact));
    }

    [Fact]
    public void EcosystemNameIsCaseInsensitive()
    {
        using var folder = new AdvisoryFolder().With("a.json", OsvFixtures.RequestsGhsa);

        var index = Load(folder);

        Assert.Single(index.FixesFor("pypi", "requests", "2.31.0", Exact));
        Assert.Single(index.FixesFor("PYPI", "requests", "2.31.0", Exact));
    }

    [Fact]
    public void GitRangesAreIgnored()
    {
        using var folder = new AdvisoryFolder().With("PYSEC-2023-74.json", OsvFixtures.RequestsPysec);

        var index = Load(folder);

        Assert.Empty(index.Errors);
        var fix = Assert.Single(index.FixesFor("PyPI", "requests", "2.31.0", Exact));
        Assert.Equal("PYSEC-2023-74", fix.AdvisoryId);
        Assert.Empty(index.FixesFor("PyPI", "requests", "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5", Exact));
        Assert.Empty(index.FixesFor("PyPI", "requests", "0", Exact));
    }

    [Fact]
    public void SeveralAffectedEntriesEachContributeTheirFix()
    {
        using var folder = new AdvisoryFolder().With("django.json", OsvFixtures.DjangoGhsa);

        var index = Load(folder);

        foreach (var version in new[] { "3.2.23", "4.1.13", "4.2.7" })
        {
            Assert.Equal("GHSA-qmf9-6jqf-j8fq", Assert.Single(index.FixesFor("PyPI", "django", version, Exact)).AdvisoryId);
        }
        Assert.Empty(index.FixesFor("PyPI", "django", "4.2", Exact));
    }

    [Fact]
    public void PyPINamesAreNormalisedOnBothSides()
    {
        // OSV spells it "Django" and "zope.interface"; the mirror's keys are PEP 503 normalised.
        using var folder = new AdvisoryFolder()
            .With("django.json", OsvFixtures.DjangoGhsa)
            .With("zope.json", OsvFixtures.LastAffectedOnly.Replace("{ \"introduced\": \"0\" }, { \"last_affected\": \"6.0\" }",
                "{ \"introduced\": \"0\" }, { \"fixed\": \"6.1\" }", StringComparison.Ordinal));

        var index = Load(folder);

        Assert.Single(index.FixesFor("PyPI", "django", "4.2.7", Exact));
        Assert.Empty(index.FixesFor("PyPI", "Django", "4.2.7", Exact));
        Assert.Single(index.FixesFor("PyPI", "zope-interface", "6.1", Exact));
    }

    [Fact]
    public void LastAffectedIsNotAFix()
    {
        using var folder = new AdvisoryFolder().With("zope.json", OsvFixtures.LastAffectedOnly);

        var index = Load(folder);

        Assert.Equal(1, index.AdvisoryCount);
        Assert.Empty(index.FixesFor("PyPI", "zope-interface", "6.0", Exact));
        Assert.Empty(index.FixesFor("PyPI", "zope-interface", "0", Exact));
    }

    [Fact]
    public void WithdrawnAdvisoriesAreIgnored()
    {
        using var folder = new AdvisoryFolder().With("withdrawn.json", OsvFixtures.Withdrawn);

        var index = Load(folder);

        Assert.Equal(0, index.AdvisoryCount);
        Assert.Empty(index.Errors);
        Assert.Empty(index.FixesFor("PyPI", "urllib3", "2.0.7", Exact));
    }

    [Fact]
    public void AFileMayHoldAnArrayOfRecords()
    {
        using var folder = new AdvisoryFolder().With("all.json",
            $"[{OsvFixtures.RequestsGhsa},{OsvFixtures.DjangoGhsa},{OsvFixtures.Withdrawn}]");

        var index = Load(folder);

        Assert.Equal(2, index.AdvisoryCount);
        Assert.Single(index.FixesFor("PyPI", "requests", "2.31.0", Exact));
        Assert.Single(index.FixesFor("PyPI", "django", "3.2.23", Exact));
        Assert.Empty(index.FixesFor("PyPI", "urllib3", "2.0.7", Exact));
    }

    [Fact]
    public void TwoAdvisoriesNamingTheSameFixAreBothReported()
    {
        using var folder = new AdvisoryFolder()
            .With("ghsa/GHSA-j8r2-6x86-q33q.json", OsvFixtures.RequestsGhsa)
            .With("pysec/PYSEC-2023-74.json", OsvFixtures.RequestsPysec);

        var index = Load(folder);

        Assert.Equal(2, index.AdvisoryCount);
        var ids = index.FixesFor("PyPI", "requests", "2.31.0", Exact).Select(f => f.AdvisoryId).Order(StringComparer.Ordinal);
        Assert.Equal(["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"], ids);
    }

    [Fact]
    public void EcosystemsAreKeptApart()
    {
        using var folder = new AdvisoryFolder()
            .With("nuget.json", OsvFixtures.NuGetGhsa)
            .With("requests.json", OsvFixtures.RequestsGhsa);

        var index = Load(folder);

        Assert.Single(index.FixesFor("NuGet", "system.text.encodings.web", "5.0.1", Exact));
        Assert.Empty(index.FixesFor("PyPI", "system-text-encodings-web", "5.0.1", Exact));
        Assert.Empty(index.FixesFor("NuGet", "requests", "2.31.0", Exact));
    }

    [Fact]
    public void VersionEqualityIsTheCallersToDecide()
    {
        using var folder = new AdvisoryFolder().With("django.json", OsvFixtures.DjangoGhsa);
        var index = Load(folder);

        // PEP 440 says 3.2.23 == 3.2.23.0; an ecosystem's equality is passed in.
        Assert.Empty(index.FixesFor("PyPI", "django", "3.2.23.0", Exact));
        Assert.Single(index.FixesFor("PyPI", "django", "3.2.23.0",
            (fixedVersion, version) => fixedVersion == version || fixedVersion + ".0" == version));
    }

    [Fact]
    public void UnreadableFilesAreReportedAndSkipped()
    {
        using var folder = new AdvisoryFolder()
            .With("good.json", OsvFixtures.RequestsGhsa)
            .With("broken.json", "{ \"id\": \"GHSA-broken\", \"affected\": [ ")
            .With("noid.json", "{ \"affected\": [] }")
            .With("notes.txt", "not an advisory, not *.json");

        var index = Load(folder);

        Assert.Equal(1, index.AdvisoryCount);
        Assert.Equal(2, index.Errors.Count);
        Assert.Contains(index.Errors, e => e.Contains("broken.json", StringComparison.Ordinal));
        Assert.Contains(index.Errors, e => e.Contains("noid.json", StringComparison.Ordinal));
        Assert.Single(index.FixesFor("PyPI", "requests", "2.31.0", Exact));
    }

    [Fact]
    public void ABadRecordSkipsItsWholeFileNotHalfOfIt()
    {
        // The first record is fine, the second has no id: the file is reported and nothing in it is used.
        using var folder = new AdvisoryFolder().With("batch.json", $"[{OsvFixtures.RequestsGhsa}, {{ \"summary\": \"no id\" }}]");

        var index = Load(folder);

        Assert.Single(index.Errors);
        Assert.Equal(0, index.AdvisoryCount);
        Assert.Empty(index.FixesFor("PyPI", "requests", "2.31.0", Exact));
    }

    [Fact]
    public void RecordWithoutAffectedCountsButFixesNothing()
    {
        using var folder = new AdvisoryFolder().With("a.json", """{ "id": "OSV-2020-111", "modified": "2021-01-01T00:00:00Z", "summary": "no affected" }""");

        var index = Load(folder);

        Assert.Equal(1, index.AdvisoryCount);
        Assert.Empty(index.Errors);
    }

    [Fact]
    public void ErrorsAreLoggedNotThrown()
    {
        using var folder = new AdvisoryFolder().With("bad.json", "\"just a string\"");

        var index = Load(folder);

        Assert.Single(index.Errors);
        Assert.Equal(0, index.AdvisoryCount);
    }

    private static int? Numeric(string left, string right) =>
        Version.TryParse(left, out var l) && Version.TryParse(right, out var r) ? l.CompareTo(r) : null;

    [Fact]
    public void MaliciousRecordListsItsVersionsUnderTheNormalizedName()
    {
        using var folder = new AdvisoryFolder().With("MAL-2024-1234.json", OsvFixtures.MaliciousVersions);

        var index = Load(folder);

        Assert.Empty(index.Errors);
        Assert.Equal(1, index.MaliciousCount);
        var record = Assert.Single(index.MaliciousFor("PyPI", "requestz", "1.0.2", Exact, Numeric));
        Assert.Equal("MAL-2024-1234", record.Id);
        Assert.Empty(index.MaliciousFor("PyPI", "requestz", "1.0.0", Exact, Numeric));
        Assert.Empty(index.MaliciousFor("PyPI", "requests", "1.0.2", Exact, Numeric));
        // A malicious-package record never fast-tracks anything.
        Assert.Empty(index.FixesFor("PyPI", "requestz", "1.0.2", Exact));
    }

    [Theory]
    [InlineData("1.9", false)]
    [InlineData("2.0", true)]
    [InlineData("2.2.9", true)]
    [InlineData("2.3", false)]
    [InlineData("not-a-version", true)] // cannot be placed in the range: fail closed
    public void MaliciousRangeIsEvaluatedInVersionOrder(string version, bool malicious)
    {
        using var folder = new AdvisoryFolder().With("MAL-2024-5678.json", OsvFixtures.MaliciousRange);

        var index = Load(folder);

        Assert.Equal(malicious, index.MaliciousFor("PyPI", "colourama", version, Exact, Numeric).Count == 1);
    }

    [Fact]
    public void MaliciousRecordFromZeroCoversEveryVersionEvenUnreadableOnes()
    {
        using var folder = new AdvisoryFolder().With("m.json", OsvFixtures.MaliciousWholePackage);

        var index = Load(folder);

        Assert.Equal("MAL-2023-42", Assert.Single(index.MaliciousFor("PyPI", "evil-pkg", "0.0.1", Exact, Numeric)).Id);
        Assert.Single(index.MaliciousFor("pypi", "evil-pkg", "99", Exact, null));
        Assert.Single(index.MaliciousFor("PyPI", "evil-pkg", "weird", Exact, Numeric));
    }

    [Fact]
    public void MaliciousRecordWithoutAPackageNameMakesTheFileUnreadable()
    {
        using var folder = new AdvisoryFolder().With("bad.json", """{ "id": "MAL-2024-1", "affected": [ { "versions": ["1.0"] } ] }""")
            .With("good.json", OsvFixtures.MaliciousVersions);

        var index = Load(folder);

        var error = Assert.Single(index.Errors);
        Assert.Contains("bad.json", error);
        Assert.Contains("MAL-2024-1", error);
        Assert.Equal(1, index.MaliciousCount);
    }

    [Fact]
    public void WithdrawnMaliciousRecordBlocksNothing()
    {
        using var folder = new AdvisoryFolder().With("w.json", """
            { "id": "MAL-2024-9", "withdrawn": "2024-04-01T00:00:00Z",
              "affected": [ { "package": { "ecosystem": "PyPI", "name": "fine" }, "versions": ["1.0"] } ] }
            """);

        var index = Load(folder);

        Assert.Equal(0, index.MaliciousCount);
        Assert.Empty(index.MaliciousFor("PyPI", "fine", "1.0", Exact, Numeric));
    }
}
