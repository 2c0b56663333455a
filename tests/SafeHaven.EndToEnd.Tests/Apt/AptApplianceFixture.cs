using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// What every apt end-to-end fixture shares beyond <see cref="UpstreamApplianceFixture"/>: upstream signing keys, and
/// the appliance's public key fetched from <c>/apt/safehaven-archive-key.asc</c> (what clients put behind <c>Signed-By</c>).
/// </summary>
public abstract class AptApplianceFixture(string rootPrefix) : UpstreamApplianceFixture(rootPrefix)
{
    /// <summary>The appliance's public key, fetched from <c>/apt/safehaven-archive-key.asc</c>.</summary>
    public string ApplianceKeyPath => Path.Combine(Root, "safehaven-archive-key.asc");

    /// <summary>An upstream signing key made by gpg for this fixture, disposed with it.</summary>
    protected async Task<AptSigningKey> CreateKeyAsync(string userId) => Own(await AptSigningKey.CreateAsync(userId));

    /// <summary>Starts the appliance with these settings and writes its public key to <see cref="ApplianceKeyPath"/>.</summary>
    protected override async Task StartApplianceAsync(Dictionary<string, string> settings)
    {
        await base.StartApplianceAsync(settings);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        await File.WriteAllTextAsync(ApplianceKeyPath, await http.GetStringAsync(new Uri(Appliance.BaseUrl, "apt/safehaven-archive-key.asc")));
    }
}
