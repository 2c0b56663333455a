using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>
/// A Tier 3 appliance over one conda-forge-shaped channel (every upload 30 days old, so nothing is in quarantine) with
/// the allowlist <c>app</c>, <c>broken</c>. <c>app</c> (noarch) needs <c>libapp &gt;=1.2</c> and <c>zlib 1.2.*</c>;
/// <c>libapp</c> 1.3 (linux-64; 1.0 is too old for <c>app</c>) needs <c>zlib &gt;=1.2.13,&lt;1.3.0a0</c>; <c>zlib</c>
/// 1.2.13 and 1.3.1. <c>broken</c> needs a package upstream does not have. <c>unrelated</c> is upstream but approved
/// by nobody and needed by nothing approved.
/// </summary>
public sealed class CondaAllowlistFixture() : CondaApplianceFixture("safehaven-conda-t3-upstream-")
{
    public static readonly CondaFixturePackage Unrelated = new("unrelated", "1.0", "noarch", "pyh0_0", Timestamp: DateTimeOffset.UtcNow.AddDays(-30));

    public override async Task InitializeAsync()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-30);
        await AddChannel("conda-forge", CondaChannelShape.CondaForge).BuildAsync([
            new("app", "1.0", "noarch", "pyh0_0", Depends: ["libapp >=1.2", "zlib 1.2.*"], Timestamp: old),
            new("broken", "1.0", "noarch", "pyh0_0", Depends: ["nonexistent >=1"], Timestamp: old),
            Unrelated,
            new("libapp", "1.0", "linux-64", "h0_0", Timestamp: old),
            new("libapp", "1.3", "linux-64", "h0_0", Depends: ["zlib >=1.2.13,<1.3.0a0"], Timestamp: old),
            new("zlib", "1.2.13", "linux-64", "h0_0", Timestamp: old),
            new("zlib", "1.3.1", "linux-64", "h0_0", Timestamp: old),
        ]);
        var allowlist = Path.Combine(Root, "conda-allowlist.txt");
        await File.WriteAllTextAsync(allowlist, "# approved conda packages\napp\nbroken\n");
        await StartCondaApplianceAsync(3, new Dictionary<string, string>
        {
            ["Policy:AllowlistFiles:conda"] = allowlist,
        });
    }
}
