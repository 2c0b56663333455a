using System.Globalization;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Cran;

/// <summary>
/// One static CRAN-like upstream for all CRAN end-to-end tests: tiny source packages built with <c>R CMD build</c>
/// that import and link to each other, with chosen publication dates, current versions indexed by
/// <c>tools::write_PACKAGES</c> and older ones in <c>src/contrib/Archive/</c>, served by a real nginx on loopback.
/// </summary>
public sealed class CranUpstreamFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private NginxServer? _nginx;

    public string Root { get; } = Directory.CreateTempSubdirectory("safehaven-cran-upstream-").FullName;

    public NginxServer Nginx => _nginx ?? throw new InvalidOperationException("not started");

    public const string TamperedFile = "shtampered_1.0.tar.gz";

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
