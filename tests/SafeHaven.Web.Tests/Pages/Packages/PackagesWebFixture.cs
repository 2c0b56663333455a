using SafeHaven.EndToEnd.Tests.Support;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Packages;

/// <summary>
/// The web fixture at Tier 3 with a real PyPI upstream, built as the PyPI end-to-end tests build theirs: real wheels
/// made with <c>pip wheel</c> from tiny projects, each with a PEP 658 <c>.metadata</c> file, listed in static PEP 691
/// JSON pages (<c>simple/&lt;project&gt;/index.json</c>, api-version 1.1, PEP 700 <c>upload-time</c>) served by nginx on
/// loopback. It imitates PyPI's JSON simple API as a static mirror publishes it, and leaves out on purpose the HTML
/// form, sdists, yanked files and every project the tests do not name.
/// <list type="bullet">
/// <item><c>shapp</c> 1.0 needs <c>shlib&gt;=1.0</c>: what a researcher requests (not on the allowlist at first).</item>
/// <item><c>shlib</c> 1.0 (past the 7-day quarantine) and 1.1 (uploaded yesterday: held back).</item>
/// <item><c>shbroken</c> 1.0 needs <c>shmissing</c>, which upstream does not have: on the allowlist file, a closure problem.</item>
/// <item><c>shother</c> 1.0: scored above the threshold by the shipped model (the model input ranks it among the most downloaded).</item>
/// </list>
/// An OSV advisory names shapp 1.0 as a fix, so the risk summary has one to list.
/// </summary>
public sealed class PackagesWebFixture : WebApplianceFixture
{
    private readonly string _root = Directory.CreateTempSubdirectory("safehaven-web-packages-").FullName;
    private NginxServer? _upstream;

    public const string AdvisoryId = "PYSEC-0000-WEB1";

    protected override async Task StartPeersAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var builder = new PyPIUpstreamBuilder(Path.Combine(_root, "upstream"));
        await builder.AddBuiltProjectsAsync([
            new("shapp", "1.0", now.AddDays(-60), ["shlib>=1.0"]),
            new("shlib", "1.0", now.AddDays(-60)),
            new("shlib", "1.1", now.AddDays(-1)),
            new("shbroken", "1.0", now.AddDays(-60), ["shmissing>=1.0"]),
            new("shother", "1.0", now.AddDays(-60)),
        ]);
        await builder.WriteIndexesAsync();
        _upstream = await NginxServer.StartAsync(Path.Combine(_root, "upstream"));

        await File.WriteAllTextAsync(Path.Combine(_root, "pypi-allowlist.txt"), "shbroken\n");
        // The columns of `safehaven whitelist score`: shother among the most downloaded with a source repository (the
        // shipped model approves that); shapp and shlib with no download rank (it does not).
        await File.WriteAllTextAsync(Path.Combine(_root, "pypi-metadata.tsv"),
            "name\tversion\tdownload_rank\thas_source_repo\tsummary\n" +
            "shother\t1.0\t40\ttrue\tA widely used package\n" +
            "shapp\t1.0\t\t\t\n" +
            "shlib\t1.0\t\t\t\n");
        Directory.CreateDirectory(Path.Combine(_root, "advisories"));
        await File.WriteAllTextAsync(Path.Combine(_root, "advisories", "shapp.json"), $$"""
            {
              "schema_version": "1.6.0",
              "id": "{{AdvisoryId}}",
              "modified": "2026-11-01T00:00:00Z",
              "summary": "Path traversal in shapp before 1.0",
              "affected": [ { "package": { "ecosystem": "PyPI", "name": "shapp" },
                              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "0" }, { "fixed": "1.0" } ] } ] } ]
            }
            """);
    }

    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["Tier"] = "3",
        ["Mirrors:pypi:Enabled"] = "true",
        ["Mirrors:pypi:Upstream"] = new Uri(_upstream!.BaseUrl, "simple/").ToString(),
        ["Mirrors:pypi:TargetEnvironment:sys_platform"] = "linux",
        ["Mirrors:pypi:TargetEnvironment:os_name"] = "posix",
        ["Policy:MinimumAgeDays"] = "7",
        ["Policy:MaximumLagDays"] = "42",
        ["Policy:AllowlistFiles:pypi"] = Path.Combine(_root, "pypi-allowlist.txt"),
        ["Policy:ModelInputFiles:pypi"] = Path.Combine(_root, "pypi-metadata.tsv"),
        ["Policy:AdvisoriesDirectory"] = Path.Combine(_root, "advisories"),
    };

    protected override async Task StopPeersAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }
}
