using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>
/// Two channels whose packages were uploaded at chosen times, under an appliance at a chosen tier (a 7-day quarantine
/// applies from Tier 2):
/// <list type="bullet">
/// <item><c>conda-forge</c>, shaped like conda-forge (<see cref="CondaChannelShape.CondaForge"/>: <c>.conda</c> files
/// in <c>packages.conda</c>, one old <c>.tar.bz2</c> in <c>packages</c>, millisecond timestamps, no <c>base_url</c>):
/// <c>greet</c> 1.0 (60 days old, needs <c>libgreet &gt;=1.0</c>) and 2.0 (2 days old, needs
/// <c>libgreet &gt;=2.0,&lt;3</c>), both noarch; <c>libgreet</c> 0.9 (<c>.tar.bz2</c>), 1.0, 2.0 (40 days old) and
/// 2.1 (2 days old) for linux-64; and <c>shaky</c> 1.0, which a test corrupts upstream.</item>
/// <item><c>main</c>, shaped like an old defaults-style channel (<see cref="CondaChannelShape.OldDefaults"/>: only
/// <c>.tar.bz2</c>, second timestamps): <c>oldtool</c> 1.0 (90 days old), 1.1 (2 days old) and 1.2 (a record with
/// no <c>timestamp</c>, so only the appliance's first sight dates it), and <c>nosha</c> 1.0, a record without
/// <c>sha256</c>.</item>
/// </list>
/// </summary>
public abstract class CondaTimelineFixture(string rootPrefix, int tier) : CondaApplianceFixture(rootPrefix)
{
    /// <summary>One instant for both tiers' fixtures, so they publish the same packages (built once per run).</summary>
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static DateTimeOffset Ago(int days) => Now.AddDays(-days);

    public static readonly CondaFixturePackage Shaky = new("shaky", "1.0", "linux-64", "h0_0", Timestamp: Ago(60));

    public override async Task InitializeAsync()
    {
        List<CondaFixturePackage> forge = [
            new("greet", "1.0", "noarch", "pyh0_0", Depends: ["libgreet >=1.0"], Timestamp: Ago(60)),
            new("greet", "2.0", "noarch", "pyh0_0", Depends: ["libgreet >=2.0,<3"], Timestamp: Ago(2)),
            new("libgreet", "0.9", "linux-64", "h0_0", Timestamp: Ago(400), Format: CondaFormat.TarBz2),
            new("libgreet", "1.0", "linux-64", "h0_0", Timestamp: Ago(60)),
            new("libgreet", "2.0", "linux-64", "h0_0", Timestamp: Ago(40)),
            new("libgreet", "2.1", "linux-64", "h0_0", Timestamp: Ago(2)),
            Shaky,
        ];
        List<CondaFixturePackage> main = [
            new("oldtool", "1.0", "linux-64", Timestamp: Ago(90), Format: CondaFormat.TarBz2),
            new("oldtool", "1.1", "linux-64", Timestamp: Ago(2), Format: CondaFormat.TarBz2),
            new("oldtool", "1.2", "linux-64", Format: CondaFormat.TarBz2),
            new("nosha", "1.0", "linux-64", Timestamp: Ago(90), Format: CondaFormat.TarBz2, WithoutSha256: true),
        ];
        await Task.WhenAll(
            AddChannel("conda-forge", CondaChannelShape.CondaForge).BuildAsync(forge),
            AddChannel("main", CondaChannelShape.OldDefaults).BuildAsync(main));
        await StartCondaApplianceAsync(tier);
    }
}

/// <summary>The timeline channels under a Tier 0 appliance (no quarantine).</summary>
public sealed class CondaPassThroughFixture() : CondaTimelineFixture("safehaven-conda-t0-upstream-", 0);

/// <summary>The timeline channels under a Tier 2 appliance (7-day quarantine).</summary>
public sealed class CondaQuarantineFixture() : CondaTimelineFixture("safehaven-conda-t2-upstream-", 2);
