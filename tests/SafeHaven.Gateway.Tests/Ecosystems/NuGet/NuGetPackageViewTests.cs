using System.Security.Cryptography;
using NuGet.Versioning;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.NuGet;

namespace SafeHaven.Gateway.Tests.Ecosystems.NuGet;

public sealed class NuGetPackageViewTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Hash = Convert.ToBase64String(SHA512.HashData("package"u8));

    // The advisory names the fix as "13.0.1"; upstream spells it "13.0.1.0". NuGet's rules make them equal.
    private const string Advisory = """
        {
          "schema_version": "1.4.0",
          "id": "GHSA-5crp-9r3c-p9vr",
          "modified": "2023-01-01T00:00:00Z",
          "affected": [
            {
              "package": { "ecosystem": "NuGet", "name": "Newtonsoft.Json" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "0" }, { "fixed": "13.0.1" } ] } ]
            }
          ]
        }
        """;

    private readonly string _advisoryFolder;
    private readonly AdvisoryIndex _advisories;

    public NuGetPackageViewTests()
    {
        _advisoryFolder = Directory.CreateTempSubdirectory("safehaven-nuget-osv-").FullName;
        File.WriteAllText(Path.Combine(_advisoryFolder, "GHSA-5crp-9r3c-p9vr.json"), Advisory);
        _advisories = AdvisoryIndex.Load(_advisoryFolder, TierPolicyProvider.NormalizeForEcosystem);
    }

    public void Dispose() => Directory.Delete(_advisoryFolder, recursive: true);

    private static NuGetLeaf Leaf(string version, DateTimeOffset? published, bool listed = true, string? hash = "default", string? catalog = null) => new()
    {
        Id = "Newtonsoft.Json",
        Version = version,
        Published = published?.ToString("O") ?? "1900-01-01T00:00:00+00:00",
        Listed = listed,
        PackageHash = hash == "default" ? Hash : hash,
        PackageHashAlgorithm = "SHA512",
        CatalogUrl = catalog,
    };

    private NuGetPackageView View(int tier, params NuGetLeaf[] leaves) =>
        new(new NuGetPackageState("newtonsoft.json", leaves),
            new PolicySnapshot(1, new TierPolicy(tier, TimeSpan.FromDays(7), TimeSpan.FromDays(42), _advisories), new Dictionary<string, Allowlist>()),
            null, Now);

    [Fact]
    public void Versions_are_normalised_lower_case_and_in_NuGet_order()
    {
        var state = new NuGetPackageState("newtonsoft.json", [
            Leaf("1.0.10", Now.AddDays(-30)),
            Leaf("1.0.0-Beta", Now.AddDays(-30)),
            Leaf("1.0", Now.AddDays(-30)),
            Leaf("1.0.2.0", Now.AddDays(-30)),
            Leaf("2.0.0+sha.abc", Now.AddDays(-30)),
            Leaf("1.0.0-beta.10", Now.AddDays(-30)),
            Leaf("1.0.0-beta.2", Now.AddDays(-30)),
            Leaf("not a version", Now.AddDays(-30)),
        ]);
        Assert.Equal(["1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.10", "1.0.0", "1.0.2", "1.0.10", "2.0.0"], state.Entries.Select(e => e.Normalized).ToArray());
        Assert.Equal("2.0.0+sha.abc", state.ByVersion["2.0.0"].Version.ToFullString());
        Assert.True(NuGetPackageState.TryNormalize("1.0.0.0", out var normalized));
        Assert.Equal("1.0.0", normalized);
    }

    [Fact]
    public void Publish_dates_and_hashes_are_read_as_NuGet_writes_them()
    {
        Assert.Null(NuGetPackageState.ParsePublished("1900-01-01T00:00:00+00:00")); // the placeholder of unlisted versions
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), NuGetPackageState.ParsePublished("2024-01-02T03:04:05+00:00"));
        Assert.Null(NuGetPackageState.ParsePublished("yesterday"));

        var (sha512, sha256) = NuGetPackageState.ParseHash(Hash, "SHA512");
        Assert.Equal(HashAlgorithmName.SHA512, sha512!.Algorithm);
        Assert.Null(sha256);
        Assert.Equal(SHA512.HashData("package"u8), sha512.Value);
        Assert.NotNull(NuGetPackageState.ParseHash(Convert.ToBase64String(SHA256.HashData("x"u8)), "sha256").Sha256);
        Assert.Equal((null, null), NuGetPackageState.ParseHash("not base64!", "SHA512"));
        Assert.Equal((null, null), NuGetPackageState.ParseHash(Convert.ToBase64String([1, 2, 3]), "SHA512"));
        Assert.Equal((null, null), NuGetPackageState.ParseHash(Hash, "MD5"));
    }

    [Fact]
    public void Tier0_passes_everything_verifiable_through_including_unlisted_versions()
    {
        var view = View(0, Leaf("12.0.1", Now.AddDays(-400)), Leaf("13.0.0", null, listed: false), Leaf("13.0.3", Now.AddHours(-1)));
        Assert.Equal(["12.0.1", "13.0.0", "13.0.3"], view.Visible.Select(e => e.Normalized).ToArray());
    }

    [Fact]
    public void Tier2_holds_back_fresh_and_undated_versions_and_fast_tracks_fixes()
    {
        var view = View(2,
            Leaf("12.0.1", Now.AddDays(-400)),
            Leaf("13.0.0", null, listed: false),
            Leaf("13.0.1.0", Now.AddDays(-1)),
            Leaf("13.0.2", Now.AddDays(-2)),
            Leaf("13.0.3", Now.AddDays(-3)));

        Assert.Equal(["12.0.1", "13.0.1"], view.Visible.Select(e => e.Normalized).ToArray());
        Assert.Equal(VersionDecision.FastTracked, view.Decisions["13.0.1"].Code);
        Assert.Contains("GHSA-5crp-9r3c-p9vr", view.Decisions["13.0.1"].Reason, StringComparison.Ordinal);
        Assert.Equal(VersionDecision.NoUploadDate, view.Decisions["13.0.0"].Code);
        Assert.Equal(VersionDecision.Quarantined, view.Decisions["13.0.2"].Code);
        // The view is rebuilt when the first quarantine ends.
        Assert.Equal(Now.AddDays(-3) + TimeSpan.FromDays(7), view.ValidUntil);
    }

    [Fact]
    public void A_version_without_any_hash_is_never_offered_but_one_with_a_catalog_leaf_is()
    {
        var view = View(0,
            Leaf("1.0.0", Now.AddDays(-30), hash: null),
            Leaf("2.0.0", Now.AddDays(-30), hash: null, catalog: "https://nuget.upstream.example/v3/catalog0/data/x.json"));
        Assert.Equal(["2.0.0"], view.Visible.Select(e => e.Normalized).ToArray());
        Assert.Equal(VersionDecision.Unverifiable, view.Decisions["1.0.0"].Code);
    }

    [Fact]
    public void Closure_picks_what_NuGet_would_pick()
    {
        var view = View(2,
            Leaf("0.9.0", Now.AddDays(-90)),
            Leaf("1.0.0", Now.AddDays(-60)),
            Leaf("1.5.0", Now.AddDays(-30)),
            Leaf("2.0.0-beta", Now.AddDays(-20)),
            Leaf("2.0.0", Now.AddDays(-1)));
        string? Pick(string? range) => NuGetClosureSource.Pick(view.Visible, range is null ? null : VersionRange.Parse(range))?.Normalized;

        Assert.Equal("1.5.0", Pick(null));                  // an approved root: the newest stable version
        Assert.Equal("1.0.0", Pick("[1.0.0, )"));           // a dependency: the lowest in range
        Assert.Equal("1.0.0", Pick("1.0.0"));               // ">= 1.0.0", NuGet's plain version
        Assert.Equal("1.5.0", Pick("[1.1.0, 2.0.0)"));      // lowest visible in range
        Assert.Equal("0.9.0", Pick("(, )"));                // no range: the lowest of all
        Assert.Null(Pick("[2.0.0]"));                       // held back by the quarantine
        Assert.Null(Pick("[3.0.0, )"));

        var prereleaseOnly = View(0, Leaf("1.0.0-rc.1", Now.AddDays(-30)));
        Assert.Equal("1.0.0-rc.1", NuGetClosureSource.Pick(prereleaseOnly.Visible, null)?.Normalized);
    }

    [Fact]
    public void Closure_follows_every_dependency_group_once()
    {
        var leaf = Leaf("1.0.0", Now) with
        {
            DependencyGroups =
            [
                new(".NETFramework4.8", [new("Win.Only", "[2.0.0, )"), new("Lib", "1.0.0")]),
                new(".NETStandard2.0", [new("LIB", "[1.0.0, )"), new("Any", null)]),
                new("net8.0", []),
            ],
        };
        var requests = NuGetClosureSource.Dependencies(leaf);
        Assert.Equal([("win.only", "[2.0.0, )"), ("lib", "[1.0.0, )"), ("any", "(, )")], requests.Select(r => (r.Name, r.Constraint)).ToArray());
    }
}
