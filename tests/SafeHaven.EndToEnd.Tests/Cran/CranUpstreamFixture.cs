using System.Globalization;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Cran;

/// <summary>
/// One static upstream laid out like real CRAN for all CRAN end-to-end tests (see <see cref="CranUpstreamBuilder"/>):
/// tiny source packages built with <c>R CMD build</c> that import and link to each other, with chosen publication
/// dates; current versions indexed by <c>tools::write_PACKAGES</c> with default fields (no <c>Date/Publication</c>,
/// as on CRAN), older ones in <c>src/contrib/Archive/</c>; the dates in <c>web/packages/packages.rds</c> and
/// <c>src/contrib/Meta/archive.rds</c>, both written by R; served by a real nginx on loopback. Some versions are
/// dated less well than CRAN dates them, on purpose: <c>shnodate</c> 1.0 nowhere at all (only first-seen is left),
/// its archived 0.9 only in its DESCRIPTION, and <c>shdesc</c> 1.0 only in its DESCRIPTION.
/// </summary>
public sealed class CranUpstreamFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private NginxServer? _nginx;

    public string Root { get; } = Directory.CreateTempSubdirectory("safehaven-cran-upstream-").FullName;

    public NginxServer Nginx => _nginx ?? throw new InvalidOperationException("not started");

    public const string TamperedFile = "shtampered_1.0.tar.gz";

    /// <summary>Current versions in upstream's PACKAGES (what /healthz counts coverage against).</summary>
    public const int CurrentVersions = 10;

    public async Task InitializeAsync()
    {
        var older = Now.AddDays(-90);
        var old = Now.AddDays(-60);
        var fresh = Now.AddDays(-1);
        var builder = new CranUpstreamBuilder(Root);
        await builder.BuildAsync([
            new("shalpha", "1.0", older, Archived: true),
            new("shalpha", "1.5", old.AddDays(10), Archived: true),
            new("shalpha", "2.0", fresh),
            new("shbase", "1.0", older, Archived: true),
            new("shbase", "2.0-1", old),
            new("shlink", "1.0", old),
            new("shapp", "1.0", old, Depends: "R (>= 3.5), methods", Imports: "shbase (>= 1.5),\n    stats", LinkingTo: "shlink", Suggests: "shother"),
            new("shother", "1.0", old),
            new("shbroken", "1.0", old, Imports: "shmissing (>= 1.0)"),
            new("shtampered", "1.0", old),
            new("shfresh", "1.0", fresh),
            // Absent from packages.rds and with no date in its DESCRIPTION: only first-seen dates it.
            new("shnodate", "1.0", old, InDatabase: false, DescriptionDate: false),
            // Archived, absent from archive.rds: its DESCRIPTION dates it.
            new("shnodate", "0.9", older, Archived: true, InDatabase: false),
            // Absent from packages.rds: its DESCRIPTION dates it, once its tarball is fetched.
            new("shdesc", "1.0", old, InDatabase: false),
        ]);
        builder.Tamper(TamperedFile);
        _nginx = await NginxServer.StartAsync(Root);
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>A copy of this upstream to change or stop without disturbing the other tests; the caller deletes it.</summary>
    public string Copy()
    {
        var copy = Directory.CreateTempSubdirectory("safehaven-cran-copy-").FullName;
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    /// <summary>Appliance settings for a tier against this upstream (the sample configuration's PyPI mirror switched off).</summary>
    public Dictionary<string, string> Settings(int tier) => new()
    {
        ["Tier"] = tier.ToString(CultureInfo.InvariantCulture),
        ["Mirrors:pypi:Enabled"] = "false",
        ["Mirrors:cran:Upstream"] = Nginx.BaseUrl.ToString(),
        ["Policy:MinimumAgeDays"] = "7",
        ["Policy:MaximumLagDays"] = "42",
    };
}

[CollectionDefinition(Name)]
public sealed class CranCollection : ICollectionFixture<CranUpstreamFixture>
{
    public const string Name = "CRAN end to end";
}
