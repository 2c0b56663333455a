using System.Text.Json;
using SafeHaven.EndToEnd.Tests.PyPI;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Upstreams;

/// <summary>
/// A site's real way out: the appliance reaches a private registry that wants credentials (basic or bearer)
/// through the site's egress proxy. The registry is nginx guarding the PyPI fixture's files with
/// <c>auth_basic</c> or a bearer-token check; the proxy is Debian's tinyproxy; the client is real pip.
/// </summary>
[Collection(PyPICollection.Name)]
public sealed class UpstreamAccessTests(PyPIUpstreamFixture upstream)
{
    private const string Password = "s3cret-upstream-password-7f1c";
    private const string Token = "bearer-token-9d2e41aa07";

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private static string SecretFile(string secret)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("safehaven-secret-").FullName, "secret");
        File.WriteAllText(path, secret + "\n");
        return path;
    }

    private static async Task<NginxServer> StartPrivateRegistryAsync(string root, string guard, NginxServer? fileHost = null)
    {
        var prefix = Directory.CreateTempSubdirectory("safehaven-htpasswd-").FullName;
        var htpasswd = Path.Combine(prefix, "htpasswd");
        await File.WriteAllTextAsync(htpasswd, $"mirror:{{PLAIN}}{Password}\n");
        return await NginxServer.StartAsync(root, guard == "basic"
            ? $"auth_basic \"private registry\"; auth_basic_user_file {htpasswd};"
                + (fileHost is null ? "" : $" location /files/ {{ return 302 http://127.0.0.1:{fileHost.Port}$request_uri; }}")
            : $"if ($http_authorization != \"Bearer {Token}\") {{ return 401; }}", accessLog: true);
    }

    private Dictionary<string, string> Settings(NginxServer registry, TinyproxyServer? proxy)
    {
        var settings = upstream.Settings(0);
        settings["Mirrors:pypi:Upstream"] = new Uri(registry.BaseUrl, "simple/").ToString();
        if (proxy is not null)
        {
            settings["Mirrors:pypi:Proxy"] = proxy.Url;
        }
        return settings;
    }

    [Fact]
    public async Task Basic_credentials_through_the_egress_proxy_install_and_the_password_is_never_logged()
    {
        // The registry sends files to a separate file host (as registries hand files to a CDN or object store).
        await using var fileHost = await NginxServer.StartAsync(upstream.Root, accessLog: true);
        await using var registry = await StartPrivateRegistryAsync(upstream.Root, "basic", fileHost);
        await using var proxy = await TinyproxyServer.StartAsync();
        var settings = Settings(registry, proxy);
        settings["Mirrors:pypi:FileOrigins:0"] = fileHost.BaseUrl.ToString();
        settings["Mirrors:pypi:Credentials:Scheme"] = "basic";
        settings["Mirrors:pypi:Credentials:Username"] = "mirror";
        settings["Mirrors:pypi:Credentials:SecretFile"] = SecretFile(Password);
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var result = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shalpha");

        Assert.True(result.Succeeded, result.Process.Output + "\n" + appliance.Log);
        Assert.Equal("3.0", result.Installed["shalpha"]);
        // Every request the registry saw came signed in as 'mirror' and through the proxy: the page and the wheel.
        // (The first line is the test harness's own readiness probe of nginx, which goes direct.)
        var access = File.ReadAllLines(registry.AccessLogPath).Where(l => !l.StartsWith("GET / ", StringComparison.Ordinal)).ToList();
        Assert.Contains(access, l => l.StartsWith("GET /simple/shalpha/ 200 user=mirror", StringComparison.Ordinal) && l.Contains(TinyproxyServer.ViaName, StringComparison.Ordinal));
        Assert.Contains(access, l => l.Contains("/shalpha-3.0-py3-none-any.whl 302 user=mirror", StringComparison.Ordinal) && l.Contains(TinyproxyServer.ViaName, StringComparison.Ordinal));
        // The file host got the wheel through the proxy too, but never the registry's credentials.
        var files = File.ReadAllLines(fileHost.AccessLogPath).Where(l => !l.StartsWith("GET / ", StringComparison.Ordinal)).ToList();
        Assert.Contains(files, l => l.Contains("/shalpha-3.0-py3-none-any.whl 200 user=- ", StringComparison.Ordinal) && l.Contains(TinyproxyServer.ViaName, StringComparison.Ordinal));
        Assert.All(files, l => Assert.Contains(" user=- ", l, StringComparison.Ordinal));
        Assert.DoesNotContain(access, l => !l.Contains(TinyproxyServer.ViaName, StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{registry.Port}", proxy.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, appliance.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bearer_token_is_read_from_its_file_and_a_rotated_token_takes_effect_without_a_restart()
    {
        await using var registry = await StartPrivateRegistryAsync(upstream.Root, "bearer");
        var secretFile = SecretFile("an-old-token-that-was-revoked");
        var settings = Settings(registry, proxy: null);
        settings["Mirrors:pypi:Credentials:Scheme"] = "bearer";
        settings["Mirrors:pypi:Credentials:SecretFile"] = secretFile;
        settings["Mirrors:pypi:IndexTtlSeconds"] = "0";
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        // The registry refuses the old token: pip fails cleanly (the appliance answers 502, never 401, which would
        // make pip ask for a password), and /healthz says why, without the token.
        var refused = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shlib");
        Assert.False(refused.Succeeded);
        Assert.DoesNotContain("User for", refused.Process.Output, StringComparison.Ordinal);
        using (var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shlib/")))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadGateway, page.StatusCode);
        }
        using (var health = JsonDocument.Parse(await Http.GetStringAsync(new Uri(appliance.BaseUrl, "healthz"))))
        {
            Assert.Equal("degraded", health.RootElement.GetProperty("status").GetString());
            Assert.Contains(health.RootElement.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("upstream answered 401", StringComparison.Ordinal));
        }

        // The operator rotates the token in its file; the next request uses it.
        await File.WriteAllTextAsync(secretFile, Token + "\n");
        File.SetLastWriteTimeUtc(secretFile, DateTime.UtcNow.AddSeconds(5));
        // After a failure the appliance waits a short back-off (5 s here) before asking upstream again.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shlib/"));
            if (page.IsSuccessStatusCode || DateTime.UtcNow > deadline)
            {
                Assert.True(page.IsSuccessStatusCode, $"the page still answers {(int)page.StatusCode} after the token was rotated\n{appliance.Log}");
                break;
            }
            await Task.Delay(500);
        }
        var result = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shlib");

        Assert.True(result.Succeeded, result.Process.Output + "\n" + appliance.Log);
        Assert.Equal("1.1", result.Installed["shlib"]);
        Assert.DoesNotContain(Token, appliance.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("an-old-token-that-was-revoked", appliance.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_credentials_without_a_readable_secret_and_a_proxy_that_is_not_a_URL()
    {
        var data = Directory.CreateTempSubdirectory("safehaven-badconfig-").FullName;
        var result = await ProcessRunner.RunAsync("dotnet", [ApplianceProcess.ExecutablePath, "serve"], data, new Dictionary<string, string?>
        {
            ["SafeHaven__DataDirectory"] = data,
            ["SafeHaven__Urls"] = $"http://127.0.0.1:{Ports.GetFree()}",
            ["SafeHaven__Mirrors__pypi__Upstream"] = upstream.UpstreamUrl,
            ["SafeHaven__Mirrors__pypi__Proxy"] = "proxy.example:3128",
            ["SafeHaven__Mirrors__pypi__Credentials__Scheme"] = "basic",
            ["SafeHaven__Mirrors__pypi__Credentials__SecretFile"] = Path.Combine(data, "no-such-file"),
        }, TimeSpan.FromMinutes(1));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("SafeHaven:Mirrors:pypi:Proxy", result.Output, StringComparison.Ordinal);
        Assert.Contains("SafeHaven:Mirrors:pypi:Credentials:Username: required", result.Output, StringComparison.Ordinal);
        Assert.Contains("SafeHaven:Mirrors:pypi:Credentials:SecretFile", result.Output, StringComparison.Ordinal);
        Assert.Contains("does not exist", result.Output, StringComparison.Ordinal);
    }
}
