using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Core.Tiers.Sharing;

namespace SafeHaven.Core.Tests.Tiers.Sharing;

/// <summary>The fingerprint a replica compares before adopting a closure another replica computed.</summary>
public sealed class ClosurePolicyTests
{
    private static PolicySnapshot Snapshot(int tier = 3, int minimumAgeDays = 7, double threshold = 0.5, params string[] pypi) =>
        new(1, new TierPolicy(tier, TimeSpan.FromDays(minimumAgeDays), TimeSpan.FromDays(42), AdvisoryIndex.Empty),
            new Dictionary<string, Allowlist>
            {
                ["pypi"] = new(pypi.Select(n => new AllowlistEntry(n, new HashSet<string>())).ToList()),
                ["cran"] = new([new AllowlistEntry("ggplot2", new HashSet<string>())]),
            }, threshold);

    private const string MaliciousRecord = """{"id": "MAL-2026-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["9.9.9"]}]}""";

    /// <summary>The snapshot with an advisories folder holding <paramref name="records"/>, one file each, loaded as a replica loads it.</summary>
    private static PolicySnapshot WithAdvisories(PolicySnapshot snapshot, params string[] records)
    {
        var directory = Directory.CreateTempSubdirectory("safehaven-advisories-").FullName;
        try
        {
            for (var i = 0; i < records.Length; i++)
            {
                File.WriteAllText(Path.Combine(directory, $"record-{i}.json"), records[i]);
            }
            var advisories = AdvisoryIndex.Load(directory, TierPolicyProvider.NormalizeForEcosystem);
            return snapshot with { Policy = new TierPolicy(snapshot.Policy.Tier, snapshot.Policy.MinimumAge, snapshot.Policy.MaximumLag, advisories) };
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_same_advisories_on_two_replicas_have_the_same_fingerprint()
    {
        var a = WithAdvisories(Snapshot(pypi: ["requests"]), MaliciousRecord);
        var b = WithAdvisories(Snapshot(pypi: ["requests"]), MaliciousRecord);
        Assert.Equal(1, a.Policy.Advisories.MaliciousCount);
        Assert.Equal(ClosurePolicy.Fingerprint(a, "pypi"), ClosurePolicy.Fingerprint(b, "pypi"));
    }

    [Fact]
    public void The_same_policy_on_two_replicas_has_the_same_fingerprint_whatever_the_entry_order()
    {
        Assert.Equal(ClosurePolicy.Fingerprint(Snapshot(pypi: ["requests", "flask"]), "pypi"),
            ClosurePolicy.Fingerprint(Snapshot(pypi: ["flask", "requests"]) with { Generation = 9 }, "pypi"));
    }

    [Fact]
    public void Anything_the_closure_is_computed_from_changes_the_fingerprint()
    {
        var fingerprint = ClosurePolicy.Fingerprint(Snapshot(pypi: ["requests"]), "pypi");

        Assert.NotEqual(fingerprint, ClosurePolicy.Fingerprint(Snapshot(pypi: ["requests", "flask"]), "pypi"));
        Assert.NotEqual(fingerprint, ClosurePolicy.Fingerprint(Snapshot(tier: 4, pypi: ["requests"]), "pypi"));
        Assert.NotEqual(fingerprint, ClosurePolicy.Fingerprint(Snapshot(minimumAgeDays: 30, pypi: ["requests"]), "pypi"));
        Assert.NotEqual(fingerprint, ClosurePolicy.Fingerprint(Snapshot(threshold: 0.8, pypi: ["requests"]), "pypi"));
        Assert.NotEqual(fingerprint, ClosurePolicy.Fingerprint(Snapshot(pypi: ["requests"]), "cran"));
        // A malicious-package record hides versions the closure could otherwise follow.
        Assert.NotEqual(fingerprint, ClosurePolicy.Fingerprint(WithAdvisories(Snapshot(pypi: ["requests"]), MaliciousRecord), "pypi"));
        // Another ecosystem's allowlist does not change this one's.
        var other = Snapshot(pypi: ["requests"]);
        var withCran = other with { Allowlists = new Dictionary<string, Allowlist>(other.Allowlists) { ["cran"] = Allowlist.Empty } };
        Assert.Equal(fingerprint, ClosurePolicy.Fingerprint(withCran, "pypi"));
    }
}
