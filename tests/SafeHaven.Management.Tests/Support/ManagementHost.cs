using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Projects;

namespace SafeHaven.Management.Tests.Support;

/// <summary>
/// The gateway and the management API composed as the appliance composes them (same calls, same middleware order),
/// on an in-memory test server over a fresh data directory.
/// </summary>
public sealed class ManagementHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly bool _ownsDirectory;

    private ManagementHost(WebApplication app, string dataDirectory, bool ownsDirectory)
    {
        _app = app;
        _ownsDirectory = ownsDirectory;
        DataDirectory = dataDirectory;
        Client = app.GetTestClient();
    }

    public string DataDirectory { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;
    public IUserStore Users => Services.GetRequiredService<IUserStore>();
    public IProjectStore Projects => Services.GetRequiredService<IProjectStore>();
    public IPolicyStore Policy => Services.GetRequiredService<IPolicyStore>();
    public IAuditLog Audit => Services.GetRequiredService<IAuditLog>();
    public TierPolicyProvider PolicyProvider => Services.GetRequiredService<TierPolicyProvider>();

    public static async Task<ManagementHost> StartAsync(IReadOnlyDictionary<string, string>? settings = null, string? dataDirectory = null)
    {
        var ownsDirectory = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("safehaven-mgmt-").FullName;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var values = new Dictionary<string, string?>
        {
            ["SafeHaven:Tier"] = "2",
            ["SafeHaven:DataDirectory"] = dataDirectory,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(values);
        var options = builder.Configuration.GetSection(SafeHavenOptions.Section).Get<SafeHavenOptions>() ?? new SafeHavenOptions();
        builder.Services.AddOptions<SafeHavenOptions>().BindConfiguration(SafeHavenOptions.Section);
        builder.Services.AddProblemDetails();
        builder.Services.AddSafeHavenGateway(options);
        builder.Services.AddSafeHavenManagement(builder.Configuration, options);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapSafeHavenGateway();
        app.MapSafeHavenManagement();
        await app.StartAsync();
        return new ManagementHost(app, dataDirectory, ownsDirectory);
    }

    /// <summary>Creates a user with roles held in the store and an API key, as <c>safehaven users add</c> does.</summary>
    public async Task<string> AddUserWithKeyAsync(string name, params (Role Role, string? Project)[] roles)
    {
        await Users.AddUserAsync(name, AuditRecord.Of("test", "user.created", name), CancellationToken.None);
        foreach (var (role, project) in roles)
        {
            await Users.AssignRoleAsync(name, role, project, AuditRecord.Of("test", "user.role.added", name, project, ("role", role.ToString())), CancellationToken.None);
        }
        var (_, key) = await Services.GetRequiredService<ApiKeys>().CreateAsync(name, "test", CancellationToken.None);
        return key;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? credential = null, string? json = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        if (credential is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }
        return Client.SendAsync(request);
    }

    /// <summary>A request as if from <paramref name="remote"/> (the test server sets the connection's address).</summary>
    public async Task<(int Status, string? RetryAfter, string Body)> SendFromAsync(System.Net.IPAddress remote, string path, string credential)
    {
        var context = await _app.GetTestServer().SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = path;
            c.Request.Headers.Authorization = "Bearer " + credential;
            c.Connection.RemoteIpAddress = remote;
        });
        var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return (context.Response.StatusCode, context.Response.Headers.RetryAfter.ToString() is { Length: > 0 } r ? r : null, body);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!_ownsDirectory)
        {
            return;
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
