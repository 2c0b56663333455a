using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway;
using SafeHaven.Gateway.Policy;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Tests.Support;

/// <summary>A clock that can be moved forward, for snapshots taken on different days.</summary>
public sealed class MovableClock(TimeSpan offset) : TimeProvider
{
    public TimeSpan Offset { get; set; } = offset;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

/// <summary>
/// The gateway composed as <c>safehaven serve</c> composes it (exception handler, snapshots and the capture point,
/// routing, the mirrors), listening on a loopback port, with a data directory of its own. At Tier 3+ the allowlist
/// closure is computed once at start, as the appliance's closure job does. <see cref="SyncAsync"/> is the test's
/// trigger of a capture-and-publish (the scheduled job and the management API belong to the sync helper).
/// </summary>
public sealed class SnapshotHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SnapshotHost(WebApplication app, Uri baseUrl, MovableClock clock)
    {
        _app = app;
        BaseUrl = baseUrl;
        Clock = clock;
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = baseUrl };
    }

    public Uri BaseUrl { get; }
    public MovableClock Clock { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<SnapshotHost> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> settings, MovableClock? clock = null)
    {
        clock ??= new MovableClock(TimeSpan.Zero);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        var values = settings.ToDictionary(p => "SafeHaven:" + p.Key, p => (string?)p.Value);
        values["SafeHaven:DataDirectory"] = dataDirectory;
        values["SafeHaven:Server:InlineScheduling"] = "false";
        builder.Configuration.AddInMemoryCollection(values);
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var options = builder.Configuration.GetSection(SafeHavenOptions.Section).Get<SafeHavenOptions>()!;
        builder.Services.AddOptions<SafeHavenOptions>().BindConfiguration(SafeHavenOptions.Section);
        builder.Services.AddProblemDetails();
        builder.Services.AddSafeHavenGateway(options);
        builder.Services.AddSingleton<TimeProvider>(clock);
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseSafeHavenSnapshots();
        app.MapSafeHavenGateway();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new SnapshotHost(app, new Uri(address.TrimEnd('/') + "/"), clock);
        if (options.Tier >= 3)
        {
            var policy = app.Services.GetRequiredService<TierPolicyProvider>().Current;
            foreach (var mirror in app.Services.GetServices<IMirrorEcosystem>())
            {
                var closure = await app.Services.GetRequiredService<ModelApprovals>()
                    .BuildClosureAsync(mirror.Ecosystem, policy, mirror.ClosureSource, clock.GetUtcNow(), CancellationToken.None);
                app.Services.GetRequiredService<AllowlistClosureRegistry>().Publish(closure);
            }
        }
        return host;
    }

    /// <summary>Takes and publishes a snapshot now (what the scheduled sync does).</summary>
    public Task<Core.Snapshots.SnapshotRecord> SyncAsync(string ecosystem, IProgress<Core.Snapshots.SnapshotEntry>? progress = null) =>
        Services.GetRequiredService<SnapshotSync>().RunOnceAsync(ecosystem, CancellationToken.None, progress);

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
