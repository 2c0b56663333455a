using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quartz;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Core.Configuration;
using SafeHaven.Gateway;
using SafeHaven.Management;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;

namespace SafeHaven.Airlock.Tests.Api;

/// <summary>
/// The appliance's composition (gateway, management, airlock) on a real loopback Kestrel port, with no mirrors,
/// over a scratch data directory; people and their API keys are made through the management stores.
/// </summary>
internal sealed class AirlockApiHost : IAsyncDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, string> _keys = [];

    private AirlockApiHost(WebApplication app, SafeHavenOptions options)
    {
        _app = app;
        Options = options;
    }

    public SafeHavenOptions Options { get; }
    public Uri BaseUrl { get; private set; } = null!;
    public string DataDirectory => Options.DataDirectory;

    /// <param name="dataDirectory">Where the appliance keeps its data (default: a scratch directory deleted on dispose).</param>
    /// <param name="settings">Configuration (e.g. <c>SafeHaven:Airlock:Storage:*</c>) the airlock reads.</param>
    public static async Task<AirlockApiHost> StartAsync(int tier, string? dataDirectory = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var temp = new TempDirectory();
        var options = new SafeHavenOptions { DataDirectory = dataDirectory ?? temp.Path, Tier = 2 };
        var stores = ManagementStores.Open(options);
        var audit = AuditRecord.Of("test", "setup", "setup");
        // A second start on the same data directory (a restart) finds everything in place and only makes new keys.
        var fresh = await stores.Projects.GetProjectAsync("proj", CancellationToken.None) is null;
        var keys = new Dictionary<string, string>();
        if (fresh)
        {
            await stores.Projects.CreateProjectAsync(new ProjectRecord("proj", "P", DateTimeOffset.UtcNow, "test"), audit, CancellationToken.None);
            await stores.Projects.CreateWorkPackageAsync(new WorkPackageRecord("proj", "wp", "W", DateTimeOffset.UtcNow, "test"), audit, CancellationToken.None);
        }
        foreach (var (user, role, project) in new (string, Role, string?)[] { ("pm", Role.ProjectManager, "proj"), ("inv", Role.Investigator, "proj"), ("ref", Role.Referee, "proj"),
            ("dpr", Role.DatasetProviderRepresentative, "proj"), ("res", Role.Researcher, "proj"), ("sysadmin", Role.SystemManager, null), ("outsider", Role.Researcher, null),
            ("invref", Role.Investigator, "proj") })
        {
            if (fresh)
            {
                await stores.Users.AddUserAsync(user, audit, CancellationToken.None);
                if (user != "outsider")
                {
                    await stores.Users.AssignRoleAsync(user, role, project, audit, CancellationToken.None);
                }
            }
            keys[user] = (await stores.ApiKeys.CreateAsync(user, "test", CancellationToken.None)).Key;
        }
        if (fresh)
        {
            // invref is Investigator and Referee of proj: one person, who may fill one sign-off of a submission only.
            await stores.Users.AssignRoleAsync("invref", Role.Referee, "proj", audit, CancellationToken.None);
            foreach (var (user, role) in new[] { ("inv", Role.Investigator), ("dpr", Role.DatasetProviderRepresentative), ("ref", Role.Referee) })
            {
                await stores.Projects.RecordClassificationAsync("proj", "wp", new Classification(user, role, tier, "test", DateTimeOffset.UtcNow), audit, CancellationToken.None);
            }
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddProblemDetails();
        builder.Services.AddSafeHavenGateway(options);
        builder.Services.AddSafeHavenManagement(builder.Configuration, options);
        // The scan job polls every second here (it is also nudged on every submit); a test's settings come after.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["SafeHaven:Airlock:ScanPollSeconds"] = "1" });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.Services.AddSafeHavenAirlock(options, builder.Configuration);
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = false);
        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapSafeHavenGateway();
        app.MapSafeHavenManagement();
        app.MapSafeHavenAirlock();
        await app.StartAsync();
        var host = new AirlockApiHost(app, options);
        foreach (var (user, key) in keys)
        {
            host._keys[user] = key;
        }
        host._tempOwner = temp;
        host.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return host;
    }

    private TempDirectory? _tempOwner;

    public HttpClient Client(string? user = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseUrl };
        if (user is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _keys[user]);
        }
        return client;
    }

    public string KeyOf(string user) => _keys[user];

    public T Service<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _tempOwner?.Dispose();
        _temp.Dispose();
    }
}
