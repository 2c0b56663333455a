namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>
/// What every fixture of one appliance over static upstreams shares: a folder of upstreams under <see cref="Root"/>
/// served by nginx, the real <c>safehaven serve</c> over them, and the clean-up of all of it (with any further
/// folders and disposables the fixture made). Each fixture builds its own upstreams (and says which real upstream
/// they imitate) in <see cref="InitializeAsync"/>.
/// </summary>
public abstract class UpstreamApplianceFixture(string rootPrefix) : IAsyncLifetime
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<string> _folders = [];
    private NginxServer? _nginx;
    private ApplianceProcess? _appliance;

    public string Root { get; } = Directory.CreateTempSubdirectory(rootPrefix).FullName;

    public ApplianceProcess Appliance => _appliance ?? throw new InvalidOperationException("not started");

    /// <summary>The nginx serving <see cref="Root"/>.</summary>
    public NginxServer Upstream => _nginx ?? throw new InvalidOperationException("upstream not started");

    public abstract Task InitializeAsync();

    /// <summary>Disposes <paramref name="owned"/> with the fixture.</summary>
    protected T Own<T>(T owned) where T : IDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    /// <summary>A further temporary folder removed with the fixture.</summary>
    protected string CreateFolder(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        _folders.Add(folder);
        return folder;
    }

    /// <summary>Starts nginx over <see cref="Root"/> (writing <see cref="NginxServer.AccessLogPath"/> when asked).</summary>
    protected async Task StartUpstreamAsync(bool accessLog = false) => _nginx = await NginxServer.StartAsync(Root, accessLog: accessLog);

    /// <summary>The base URL of the upstream in <c>Root/&lt;name&gt;/</c>.</summary>
    protected Uri UpstreamUrl(string name) => new(Upstream.BaseUrl, name + "/");

    /// <summary>Starts the appliance with these settings.</summary>
    protected virtual async Task StartApplianceAsync(Dictionary<string, string> settings) =>
        _appliance = await ApplianceProcess.StartAsync(settings);

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
