using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Conda;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;

/// <summary>
/// The gateway composed as the appliance composes it (same registration, same endpoint mapping, problem details), on
/// an in-memory test server over a scratch data directory, with the conda mirror configured from
/// <c>SafeHaven:Mirrors:conda:Channels:*</c>. The scheduled jobs are not running: tests refresh and close explicitly.
/// </summary>
public sealed class CondaGatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CondaGatewayHost(WebApplication app, string dataDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
        Client = app.GetTestClient();
    }

    public string DataDirectory { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;
    public CondaMirror Mirror => Services.GetRequiredService<CondaMirror>();

    public static async Task<CondaGatewayHost> StartAsync(int tier, IReadOnlyDictionary<string, string?> settings, string? dataDirectory = null)
    {
        dataDirectory ??= Directory.CreateTempSubdirectory("safehaven-conda-").FullName;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var values = new Dictionary<string, string?>
        {
            ["SafeHaven:Tier"] = tier.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SafeHaven:DataDirectory"] = dataDirectory,
            ["SafeHaven:Policy:AdvisoriesDirectory"] = Path.Combine(dataDirectory, "advisories"),
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(values);
        var options = builder.Configuration.GetSection(SafeHavenOptions.Section).Get<SafeHavenOptions>() ?? new SafeHavenOptions();
        builder.Services.AddOptions<SafeHavenOptions>().BindConfiguration(SafeHavenOptions.Section);
        builder.Services.AddProblemDetails();
        builder.Services.AddSafeHavenGateway(options);
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapSafeHavenGateway();
        await app.StartAsync();
        return new CondaGatewayHost(app, dataDirectory);
    }

    /// <summary>Refreshes every subdir and, at Tier 3+, computes the allowlist closure and publishes with it.</summary>
    public async Task RefreshAsync()
    {
        await Mirror.RefreshAllAsync(CancellationToken.None);
        var policy = Services.GetRequiredService<TierPolicyProvider>().Current;
        if (policy.Policy.RequiresAllowlist)
        {
            await Mirror.RecomputeClosureAsync(policy, CancellationToken.None);
            await Mirror.PublishAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
