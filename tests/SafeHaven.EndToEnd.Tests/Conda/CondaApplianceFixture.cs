using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>
/// An appliance over conda channels built at test time under <c>Root/&lt;name&gt;/</c> and served by nginx (with its
/// access log, so tests can see what the appliance asked upstream for). Each channel added with
/// <see cref="AddChannel"/> is configured as <c>Mirrors:conda:Channels:&lt;name&gt;:Upstream</c> with the default
/// subdirs (<c>noarch</c>, <c>linux-64</c>).
/// </summary>
public abstract class CondaApplianceFixture(string rootPrefix) : UpstreamApplianceFixture(rootPrefix)
{
    private readonly Dictionary<string, CondaUpstreamBuilder> _channels = [];

    /// <summary>When the fixture started building: every time the appliance records is at or after it.</summary>
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>The upstream channel <paramref name="name"/>.</summary>
    public CondaUpstreamBuilder Channel(string name) => _channels[name];

    /// <summary>The appliance's channel URL, as a client is given it (<c>-c http://HOST/conda/&lt;name&gt;</c>).</summary>
    public Uri ChannelUrl(string name) => new(Appliance.BaseUrl, $"conda/{name}/");

    /// <summary>A file of the appliance's channel, e.g. <c>linux-64/repodata.json</c>.</summary>
    public Uri ChannelFileUrl(string name, string path) => new(ChannelUrl(name), path);

    protected CondaUpstreamBuilder AddChannel(string name, CondaChannelShape shape)
    {
        var builder = new CondaUpstreamBuilder(Path.Combine(Root, name), shape);
        _channels.Add(name, builder);
        return builder;
    }

    /// <summary>Starts the upstream nginx, then the appliance at <paramref name="tier"/> over every added channel.</summary>
    protected async Task StartCondaApplianceAsync(int tier, IReadOnlyDictionary<string, string>? settings = null)
    {
        await StartUpstreamAsync(accessLog: true);
        var all = new Dictionary<string, string>
        {
            ["Tier"] = tier.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Policy:MinimumAgeDays"] = "7",
            ["Mirrors:pypi:Enabled"] = "false",
        };
        foreach (var name in _channels.Keys)
        {
            all[$"Mirrors:conda:Channels:{name}:Upstream"] = UpstreamUrl(name).ToString();
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        await StartApplianceAsync(all);
    }
}
