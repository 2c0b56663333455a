using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// What every apt end-to-end fixture shares: a folder of upstream archives under <see cref="Root"/> served by nginx,
/// the real <c>safehaven serve</c> over them, the appliance's public key fetched from
/// <c>/apt/safehaven-archive-key.asc</c> (what clients put behind <c>Signed-By</c>), and the clean-up of all of it.
/// Each fixture builds its own upstreams (and says which real archive they imitate) in <see cref="InitializeAsync"/>.
/// </summary>
public abstract class AptApplianceFixture(string rootPrefix) : IAsyncLifetime
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<string> _folders = [];
    private NginxServer? _nginx;
    private ApplianceProcess? _appliance;

    public string Root { get; } = Directory.CreateTempSubdirectory(rootPrefix).FullName;

    public ApplianceProcess Appliance => _appliance ?? throw new InvalidOperationException("not started");

    /// <summary>The appliance's public key, fetched from <c>/apt/safehaven-archive-key.asc</c>.</summary>
    public string ApplianceKeyPath => Path.Combine(Root, "safehaven-archive-key.asc");

    public abstract Task InitializeAsync();

    /// <summary>An upstream signing key made by gpg for this fixture, disposed with it.</summary>
    protected async Task<AptSigningKey> CreateKeyAsync(string userId)
    {
        var key = await AptSigningKey.CreateAsync(userId);
        _owned.Add(key);
        return key;
    }

    /// <summary>A further temporary folder removed with the fixture.</summary>
    protected string CreateFolder(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        _folders.Add(folder);
        return folder;
    }

    /// <summary>Starts nginx over <see cref="Root"/>.</summary>
    protected async Task StartUpstreamAsync() => _nginx = await NginxServer.StartAsync(Root);

    /// <summary>The base URL of the upstream archive in <c>Root/&lt;name&gt;/</c>.</summary>
    protected Uri UpstreamUrl(string name) =>
        new((_nginx ?? throw new InvalidOperationException("upstream not started")).BaseUrl, name + "/");

    /// <summary>Starts the appliance with these settings and writes its public key to <see cref="ApplianceKeyPath"/>.</summary>
    protected async Task StartApplianceAsync(Dictionary<string, string> settings)
    {
        _appliance = await ApplianceProcess.StartAsync(settings);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        await File.WriteAllTextAsync(ApplianceKeyPath, await http.GetStringAsync(new Uri(_appliance.BaseUrl, "apt/safehaven-archive-key.asc")));
    }

    public async Task DisposeAsync()
    {
        if (_appliance is not null)
        {
            await _appliance.DisposeAsync();
        }
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
        foreach (var folder in _folders.Prepend(Root))
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
