using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace SafeHaven.Web.Tests.Support;

/// <summary>A person at the identity provider: the login, and the group or role values of their "roles" claim.</summary>
public sealed record OidcUser(string Login, string DisplayName, params string[] Roles);

/// <summary>
/// The real OpenID Connect provider (npm oidc-provider, tests/tools/oidc/provider.mjs) on a loopback port, with one
/// confidential client whose redirect URI is the appliance's <c>/signin-oidc</c>. See provider.mjs for what it leaves out.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string ClientId = "safehaven-web";

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly string _usersFile;

    private OidcProvider(Process process, int port, string usersFile, string clientSecret)
    {
        _process = process;
        ClientSecret = clientSecret;
        _usersFile = usersFile;
        Issuer = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Issuer { get; }

    public string ClientSecret { get; }

    /// <summary>A fresh random client secret per run: the appliance is configured with it, nothing else knows it.</summary>
    public static string NewClientSecret() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Picks the port; <see cref="StartAsync"/> starts the provider once the appliance's port is known.</summary>
    public static int ReservePort() => SafeHaven.EndToEnd.Tests.Support.Ports.GetFree();

    public static async Task<OidcProvider> StartAsync(int port, Uri redirectUri, IEnumerable<OidcUser> users, string clientSecret)
    {
        var tools = Repository.OidcTools;
        var usersFile = System.IO.Path.GetTempFileName();
        await File.WriteAllTextAsync(usersFile, JsonSerializer.Serialize(users.ToDictionary(u => u.Login, u => new { name = u.DisplayName, roles = u.Roles })));
        var info = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = tools,
        };
        foreach (var argument in new[] { System.IO.Path.Combine(tools, "provider.mjs"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), redirectUri.ToString(), ClientId, clientSecret, usersFile })
        {
            info.ArgumentList.Add(argument);
        }
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(info)!;
        var provider = new OidcProvider(process, port, usersFile, clientSecret);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (provider._log)
            {
                provider._log.AppendLine(e.Data);
            }
            if (e.Data.StartsWith("ready ", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (provider._log) { provider._log.AppendLine(e.Data); } } };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("oidc-provider exited:\n" + provider.Log));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
        return provider;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        File.Delete(_usersFile);
    }
}
