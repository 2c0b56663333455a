using System.Text;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.PyPI;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

public sealed class PyPIProjectViewTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);

    // The advisory names the fix as "2.31"; the files say "2.31.0". PEP 440 says they are the same version.
    private const string Advisory = """
        {
          "schema_version": "1.4.0",
          "id": "GHSA-j8r2-6x86-q33q",
          "modified": "2023-11-08T04:12:18.674169Z",
          "published": "2023-05-22T20:36:32Z",
          "aliases": ["CVE-2023-32681"],
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "Requests" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "2.3.0" }, { "fixed": "2.31" } ] } ]
            }
          ]
        }
        """;

    private readonly string _advisoryFolder;
    private readonly AdvisoryIndex _advisories;

    public PyPIProjectViewTests()
    {
        _advisoryFolder = Path.Combine(Path.GetTempPath(), "safehaven-view-osv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_advisoryFolder);
        System.IO.File.WriteAllText(Path.Combine(_advisoryFolder, "GHSA-j8r2-6x86-q33q.json"), Advisory);
        _advisories = AdvisoryIndex.Load(_advisoryFolder, TierPolicyProvider.NormalizeForEcosystem);
    }

    public void Dispose() => Directory.Delete(_advisoryFolder, recursive: true);

    private static string Sha(int n) => n.ToString("x2", System.Globalization.CultureInfo.InvariantCulture).PadLeft(64, 'a');

    private static PyPIFile File(string filename, string? uploadTime, string? sha256) => new()
    {
        Filename = filename,
        Url = "https://files.pythonhosted.org/packages/xx/" + filename,
        Sha256 = sha256,
        UploadTime = uploadTime,
        Size = 60_000,
    };

    /// <summary>One project page with every case the view must tell apart.</summary>
    private static PyPIProjectState Requests() => new("requests", new PyPIProject
    {
        Name = "requests",
        Files =
        [
            File("requests-2.30.0-py3-none-any.whl", "2023-05-03T17:48:53.437510Z", Sha(1)),      // old: aged
            File("requests-2.30.0.tar.gz", "2023-05-03T17:48:55.762946Z", Sha(2)),                // old: aged
            File("requests-2.30.0-py2.py3-none-any.whl", "2024-05-30T09:15:00.000000Z", Sha(3)),  // new file, old release
            File("requests-2.31.0-py3-none-any.whl", "2024-05-31T10:00:00.000000Z", Sha(4)),      // new, fixes an advisory
            File("requests-2.32.0-py3-none-any.whl", "2024-05-29T08:00:00.000000Z", Sha(5)),      // new: quarantined
            File("requests-2.32.0.tar.gz", null, Sha(6)),                                          // no upload date
            File("requests-2.29.0.tar.gz", "2023-04-26T15:26:53.000000Z", null),                   // no hash
            File("requests-2.28.0.tar.gz", "2022-06-09T14:44:38.000000Z", "d41d8cd98f00b204e9800998ecf8427e"), // md5-length "hash"
            File("requests-latest.exe", "2020-01-01T00:00:00Z", Sha(9)),                           // no version in the name
        ],
    }, Now);

    private PolicySnapshot Policy(int tier) =>
        new(1, new TierPolicy(tier, TimeSpan.FromDays(7), TimeSpan.FromDays(42), _advisories), new Dictionary<string, Allowlist>());

    private PyPIProjectView View(int tier, DateTimeOffset? now = null) => new(Requests(), Policy(tier), null, now ?? Now);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void TiersZeroAndOnePassEverythingVerifiable(int tier)
    {
        var view = View(tier);

        Assert.Equal(
            ["requests-2.30.0-py3-none-any.whl", "requests-2.30.0.tar.gz", "requests-2.30.0-py2.py3-none-any.whl", "requests-2.31.0-py3-none-any.whl",
             "requests-2.32.0-py3-none-any.whl", "requests-2.32.0.tar.gz", "requests-latest.exe"],
            view.VisibleEntries.Select(e => e.File.Filename));
        Assert.All(view.VisibleEntries, e => Assert.Equal(VersionDecision.PassThrough, view.Decisions[e.File.Filename].Code));
        Assert.Equal(DateTimeOffset.MaxValue, view.ValidUntil);
        Assert.Equal(["2.30.0", "2.31.0", "2.32.0"], view.Versions);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    public void AFileWithoutAUsableSha256IsNeverOffered(int tier)
    {
        var view = View(tier, Now.AddYears(3));

        foreach (var filename in new[] { "requests-2.29.0.tar.gz", "requests-2.28.0.tar.gz" })
        {
            var decision = view.Decisions[filename];
            Assert.False(decision.Visible);
            Assert.Equal(VersionDecision.Unverifiable, decision.Code);
            Assert.Contains(filename, decision.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain(view.VisibleEntries, e => e.File.Filename == filename);
        }
        Assert.DoesNotContain("2.29.0", view.Versions);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void QuarantineJudgesEachFileByItsOwnUploadTime(int tier)
    {
        var view = View(tier);
        var d = view.Decisions;

        Assert.Equal(VersionDecision.Aged, d["requests-2.30.0-py3-none-any.whl"].Code);
        Assert.Equal(VersionDecision.Aged, d["requests-2.30.0.tar.gz"].Code);

        // A wheel added to an old release waits like a new release.
        var lateWheel = d["requests-2.30.0-py2.py3-none-any.whl"];
        Assert.False(lateWheel.Visible);
        Assert.Equal(VersionDecision.Quarantined, lateWheel.Code);
        Assert.Equal(new DateTimeOffset(2024, 6, 6, 9, 15, 0, TimeSpan.Zero), lateWheel.VisibleFrom);

        var fresh = d["requests-2.32.0-py3-none-any.whl"];
        Assert.False(fresh.Visible);
        Assert.Equal(VersionDecision.Quarantined, fresh.Code);
        Assert.Equal(new DateTimeOffset(2024, 6, 5, 8, 0, 0, TimeSpan.Zero), fresh.VisibleFrom);

        var fix = d["requests-2.31.0-py3-none-any.whl"];
        Assert.True(fix.Visible);
        Assert.Equal(VersionDecision.FastTracked, fix.Code);
        Assert.Contains("GHSA-j8r2-6x86-q33q", fix.Reason, StringComparison.Ordinal);

        var undated = d["requests-2.32.0.tar.gz"];
        Assert.False(undated.Visible);
        Assert.Equal(VersionDecision.NoUploadDate, undated.Code);

        var unknown = d["requests-latest.exe"];
        Assert.False(unknown.Visible);
        Assert.Equal(VersionDecision.UnknownVersion, unknown.Code);

        Assert.Equal(["requests-2.30.0-py3-none-any.whl", "requests-2.30.0.tar.gz", "requests-2.31.0-py3-none-any.whl"],
            view.VisibleEntries.Select(e => e.File.Filename));
        Assert.Equal(["2.30.0", "2.31.0"], view.Versions);
        Assert.Equal(Requests().Entries.Count, view.Decisions.Count);
    }

    [Fact]
    public void ValidUntilIsTheEarliestEndOfAQuarantine()
    {
        var view = View(2);

        Assert.Equal(new DateTimeOffset(2024, 6, 5, 8, 0, 0, TimeSpan.Zero), view.ValidUntil);
    }

    [Fact]
    public void AtValidUntilTheNextViewShowsTheFileAndMovesOn()
    {
        var first = View(2);

        var second = View(2, first.ValidUntil);
        var third = View(2, second.ValidUntil);

        Assert.True(second.Decisions["requests-2.32.0-py3-none-any.whl"].Visible);
        Assert.Equal(VersionDecision.Aged, second.Decisions["requests-2.32.0-py3-none-any.whl"].Code);
        Assert.Equal(["2.30.0", "2.31.0", "2.32.0"], second.Versions);
        Assert.Equal(new DateTimeOffset(2024, 6, 6, 9, 15, 0, TimeSpan.Zero), second.ValidUntil);

        Assert.True(third.Decisions["requests-2.30.0-py2.py3-none-any.whl"].Visible);
        // Nothing left that time alone will change (the undated file stays hidden for good).
        Assert.Equal(DateTimeOffset.MaxValue, third.ValidUntil);
        Assert.False(third.Decisions["requests-2.32.0.tar.gz"].Visible);
    }

    [Fact]
    public void WithoutTheAdvisoryTheFixWaitsToo()
    {
        var policy = new PolicySnapshot(1, new TierPolicy(2, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty), new Dictionary<string, Allowlist>());

        var view = new PyPIProjectView(Requests(), policy, null, Now);

        Assert.Equal(VersionDecision.Quarantined, view.Decisions["requests-2.31.0-py3-none-any.whl"].Code);
        Assert.Equal(["2.30.0"], view.Versions);
    }

    [Fact]
    public void PagesListOnlyVisibleFiles()
    {
        var view = View(2);

        var json = SimpleIndexParser.ParseProject(view.Page(SimpleFormat.Json).Body, SimpleContentNegotiation.JsonV1,
            new Uri("https://safehaven.example/pypi/simple/requests/"), "requests");
        var html = SimpleIndexParser.ParseProject(view.Page(SimpleFormat.LegacyHtml).Body, "text/html",
            new Uri("https://safehaven.example/pypi/simple/requests/"), "requests");
        var text = Encoding.UTF8.GetString(view.Page(SimpleFormat.Json).Body);

        Assert.Equal(view.VisibleEntries.Select(e => e.File.Filename), json.Files.Select(f => f.Filename));
        Assert.Equal(view.VisibleEntries.Select(e => e.File.Filename), html.Files.Select(f => f.Filename));
        Assert.Contains("\"versions\":[\"2.30.0\",\"2.31.0\"]", text, StringComparison.Ordinal);
        Assert.Equal("2023-05-03T17:48:53.437510Z", json.Files[0].UploadTime);
        Assert.DoesNotContain("2.32.0", text, StringComparison.Ordinal);
    }

    [Fact]
    public void PagesHaveStableStrongETags()
    {
        var a = View(2);
        var b = View(2);
        var later = View(2, a.ValidUntil);

        Assert.Equal(a.Page(SimpleFormat.Json).ETag, b.Page(SimpleFormat.Json).ETag);
        Assert.NotEqual(a.Page(SimpleFormat.Json).ETag, a.Page(SimpleFormat.Html).ETag);
        Assert.NotEqual(a.Page(SimpleFormat.Json).ETag, later.Page(SimpleFormat.Json).ETag);
        Assert.StartsWith("\"", a.Page(SimpleFormat.Json).ETag, StringComparison.Ordinal);
        Assert.EndsWith("\"", a.Page(SimpleFormat.Json).ETag, StringComparison.Ordinal);
    }

    [Fact]
    public void VersionsAreOrderedByPep440AndDeduplicated()
    {
        var state = new PyPIProjectState("pkg", new PyPIProject
        {
            Name = "pkg",
            Files =
            [
                File("pkg-2.10.0.tar.gz", "2020-01-01T00:00:00Z", Sha(1)),
                File("pkg-2.10.0-py3-none-any.whl", "2020-01-01T00:00:00Z", Sha(2)),
                File("pkg-2.9.0.tar.gz", "2020-01-01T00:00:00Z", Sha(3)),
                File("pkg-1!0.1.tar.gz", "2020-01-01T00:00:00Z", Sha(4)),
                File("pkg-2.10.0rc1.tar.gz", "2020-01-01T00:00:00Z", Sha(5)),
                File("pkg-2.10.0.post1.tar.gz", "2020-01-01T00:00:00Z", Sha(6)),
                File("pkg-2.10.0.dev1.tar.gz", "2020-01-01T00:00:00Z", Sha(7)),
                File("pkg-2.10.0-RC2.tar.gz", "2020-01-01T00:00:00Z", Sha(8)),   // non-normalised spelling of 2.10.0rc2
                File("pkg-10.0.tar.gz", "2020-01-01T00:00:00Z", Sha(9)),
            ],
        }, Now);

        var view = new PyPIProjectView(state, Policy(2), null, Now);

        Assert.Equal(["2.9.0", "2.10.0.dev1", "2.10.0rc1", "2.10.0rc2", "2.10.0", "2.10.0.post1", "10.0", "1!0.1"], view.Versions);
    }

    /// <summary>An upstream like pytz's on PyPI: PEP 700 lists more versions than there are files (old files deleted).</summary>
    private static PyPIProjectState WithUpstreamVersions(IReadOnlyList<string> versions) => new("requests", Requests().Project with { Versions = versions }, Now);

    [Fact]
    public void UpstreamVersionsPassThroughLessTheVersionsHiddenEntirely()
    {
        // 2.0 and 2.1.0 have no files left upstream; 2.29.0 has only an unverifiable file; 2.32.0's files are all
        // hidden at Tier 2 (quarantined, undated); 2.30.0 is visible; 2.31 (= 2.31.0) is fast-tracked.
        var state = WithUpstreamVersions(["2.0", "2.1.0", "2.28.0", "2.29.0", "2.30.0", "2.31", "2.32.0"]);

        var tier0 = new PyPIProjectView(state, Policy(0), null, Now);
        var tier2 = new PyPIProjectView(state, Policy(2), null, Now);

        Assert.Equal(["2.0", "2.1.0", "2.30.0", "2.31", "2.32.0"], tier0.Versions);
        Assert.Equal(["2.0", "2.1.0", "2.30.0", "2.31"], tier2.Versions);
        var json = System.Text.Json.JsonDocument.Parse(tier2.Page(SimpleFormat.Json).Body);
        Assert.Equal(["2.0", "2.1.0", "2.30.0", "2.31"], json.RootElement.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public void FirstSeenHoldsBackAFileWithoutUploadTimeAndThenLetsItThrough()
    {
        var state = Requests();
        var undated = state.ByFilename["requests-2.32.0.tar.gz"];
        Assert.True(PyPIProjectView.NeedsFirstSeen(undated));
        Assert.False(PyPIProjectView.NeedsFirstSeen(state.ByFilename["requests-2.30.0.tar.gz"])); // upstream date
        Assert.False(PyPIProjectView.NeedsFirstSeen(state.ByFilename["requests-2.29.0.tar.gz"])); // unverifiable anyway
        var seenAt = Now.AddDays(-2);
        var firstSeen = new Dictionary<string, DateTimeOffset> { [PyPIProjectView.FirstSeenKey("requests", undated.File)] = seenAt };

        var held = new PyPIProjectView(state, Policy(2), null, Now, firstSeen);
        var decision = held.Decisions["requests-2.32.0.tar.gz"];
        Assert.False(decision.Visible);
        Assert.Equal(VersionDecision.NoUploadDate, decision.Code);
        Assert.Contains("first saw it at", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(seenAt.AddDays(7), decision.VisibleFrom);
        Assert.True(held.ValidUntil <= seenAt.AddDays(7));
        Assert.Equal(1, held.HiddenByCode[VersionDecision.NoUploadDate]);

        var later = new PyPIProjectView(state, Policy(2), null, seenAt.AddDays(7), firstSeen);
        Assert.True(later.Decisions["requests-2.32.0.tar.gz"].Visible);
        Assert.Contains("first seen by this appliance", later.Decisions["requests-2.32.0.tar.gz"].Reason, StringComparison.Ordinal);
        Assert.False(later.HiddenByCode.ContainsKey(VersionDecision.NoUploadDate));

        // Without a first-seen time there is no clock at all: hidden, and time alone will not change that.
        var unknown = new PyPIProjectView(state, Policy(2), null, Now.AddYears(1));
        Assert.Equal(VersionDecision.NoUploadDate, unknown.Decisions["requests-2.32.0.tar.gz"].Code);
        Assert.Null(unknown.Decisions["requests-2.32.0.tar.gz"].ChangesAt);
    }

    [Fact]
    public void AFirstSeenTimeIsNeverServedAsUpstreamsUploadTime()
    {
        var state = new PyPIProjectState("requests", new PyPIProject
        {
            Name = "requests",
            Files =
            [
                File("requests-2.30.0.tar.gz", null, Sha(1)),
                File("requests-2.31.0.tar.gz", "not a time", Sha(2)),
                File("requests-2.32.0.tar.gz", "2023-05-03T17:48:55.762946Z", Sha(3)),
            ],
        }, Now);
        var firstSeen = state.Entries.Where(PyPIProjectView.NeedsFirstSeen).ToDictionary(e => PyPIProjectView.FirstSeenKey("requests", e.File), _ => Now.AddDays(-30));

        var view = new PyPIProjectView(state, Policy(2), null, Now, firstSeen);

        Assert.Equal(3, view.VisibleEntries.Count);
        var json = System.Text.Json.JsonDocument.Parse(view.Page(SimpleFormat.Json).Body);
        var files = json.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.False(files[0].TryGetProperty("upload-time", out _));
        Assert.False(files[1].TryGetProperty("upload-time", out _)); // unreadable upstream value: not passed on
        Assert.Equal("2023-05-03T17:48:55.762946Z", files[2].GetProperty("upload-time").GetString());
    }

    [Fact]
    public void AnApprovedProjectWithNothingVisibleSaysWhy()
    {
        var state = new PyPIProjectState("requests", new PyPIProject
        {
            Name = "requests",
            Files =
            [
                File("requests-2.32.0-py3-none-any.whl", "2024-05-29T08:00:00.000000Z", Sha(5)), // quarantined
                File("requests-2.32.0.tar.gz", null, Sha(6)),                                     // no date
                File("requests-2.32.1.tar.gz", null, Sha(7)),                                     // no date
            ],
        }, Now);

        var view = new PyPIProjectView(state, Policy(3), null, Now, approvedOutsideClosure: true);
        var (code, reason) = view.NothingVisible(3);

        Assert.Empty(view.VisibleEntries);
        Assert.True(view.ApprovedOutsideClosure);
        Assert.Equal(VersionDecision.NoUploadDate, code);
        Assert.StartsWith("tier 3: 'requests' is approved, but none of its 3 upstream files is visible at this tier (2 no-upload-date, 1 quarantined); for example: ", reason, StringComparison.Ordinal);

        var empty = new PyPIProjectView(new PyPIProjectState("requests", new PyPIProject { Name = "requests", Files = [] }, Now), Policy(3), null, Now, approvedOutsideClosure: true);
        Assert.Equal((null, "tier 3: 'requests' is approved, but upstream lists no files for it"), empty.NothingVisible(3));
    }

    [Fact]
    public void ANewFileUnderAnOldNameHasItsOwnFirstSeenKey()
    {
        var a = File("requests-2.30.0.tar.gz", null, Sha(1));
        var b = a with { Sha256 = Sha(2) };

        Assert.NotEqual(PyPIProjectView.FirstSeenKey("requests", a), PyPIProjectView.FirstSeenKey("requests", b));
    }

    [Fact]
    public void DecideMatchesTheViewsDecisions()
    {
        var state = Requests();
        var policy = Policy(2).Policy;
        var view = View(2);

        foreach (var entry in state.Entries)
        {
            Assert.Equal(view.Decisions[entry.File.Filename], PyPIProjectView.Decide("requests", entry, policy, Now));
        }
    }

    [Fact]
    public void DecideUsesTheUploadTimeParsedFromPep700()
    {
        var entry = Requests().ByFilename["requests-2.32.0-py3-none-any.whl"];

        Assert.Equal(new DateTimeOffset(2024, 5, 29, 8, 0, 0, TimeSpan.Zero), entry.Uploaded);
        Assert.Equal("2.32.0", entry.Version);

        var justBefore = PyPIProjectView.Decide("requests", entry, Policy(2).Policy, new DateTimeOffset(2024, 6, 5, 7, 59, 59, TimeSpan.Zero));
        var atTheBoundary = PyPIProjectView.Decide("requests", entry, Policy(2).Policy, new DateTimeOffset(2024, 6, 5, 8, 0, 0, TimeSpan.Zero));
        Assert.False(justBefore.Visible);
        Assert.True(atTheBoundary.Visible);
    }

    [Theory]
    [InlineData("2023-02-17T18:31:56.494954Z", 2023, 2, 17, 18, 31, 56)]
    [InlineData("2023-02-17T18:31:56Z", 2023, 2, 17, 18, 31, 56)]
    [InlineData("2023-02-17T19:31:56+01:00", 2023, 2, 17, 18, 31, 56)]
    [InlineData("2023-02-17T18:31:56", 2023, 2, 17, 18, 31, 56)]   // no zone: UTC
    public void UploadTimesAreReadAsUtc(string text, int y, int mo, int d, int h, int mi, int s)
    {
        var parsed = PyPIProjectState.ParseUploadTime(text);

        Assert.NotNull(parsed);
        Assert.Equal(TimeSpan.Zero, parsed.Value.Offset);
        Assert.Equal(new DateTime(y, mo, d, h, mi, s, DateTimeKind.Utc), parsed.Value.UtcDateTime.AddTicks(-(parsed.Value.UtcDateTime.Ticks % TimeSpan.TicksPerSecond)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    public void UnreadableUploadTimesAreNull(string? text)
    {
        Assert.Null(PyPIProjectState.ParseUploadTime(text));
    }
}
