using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SafeHaven.Core.Configuration;

namespace SafeHaven.Gateway.Upstreams;

/// <summary>
/// How one mirror reaches its upstream: directly or through the site's egress proxy (<c>Proxy</c>), and with or
/// without credentials for a private registry (<c>Credentials</c>). Secrets come from files and never appear in
/// configuration dumps, logs or error messages.
/// </summary>
public static class UpstreamAccess
{
    /// <summary>The HTTP client a mirror's <see cref="UpstreamHttp"/> uses, going through the configured proxy if any.</summary>
    public static HttpClient CreateClient(MirrorOptions mirror, bool decompress)
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = decompress ? DecompressionMethods.All : DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AllowAutoRedirect = false, // redirects are followed by UpstreamHttp, which checks each hop's origin
            UseProxy = false, // never the process's environment proxy: only the one configured for this mirror
        };
        if (!string.IsNullOrWhiteSpace(mirror.Proxy))
        {
            var proxyUri = new Uri(mirror.Proxy);
            var proxy = new WebProxy(new UriBuilder(proxyUri) { UserName = "", Password = "" }.Uri) { BypassProxyOnLocal = false };
            if (!string.IsNullOrEmpty(proxyUri.UserInfo))
            {
                var parts = proxyUri.UserInfo.Split(':', 2);
                proxy.Credentials = new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
            }
            handler.UseProxy = true;
            handler.Proxy = proxy;
        }
        return new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan, // per-request timeouts; artifact bodies may take long
            DefaultRequestHeaders = { { "User-Agent", "SafeHaven-Appliance/1.0" } },
        };
    }

    /// <summary>The proxy URL as it may be shown to people: without any user name or password in it.</summary>
    public static string Redacted(string proxy) =>
        Uri.TryCreate(proxy, UriKind.Absolute, out var uri) ? uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : "(not a URL)";

    /// <summary>Everything wrong with a mirror's proxy and credential settings, named by configuration key.</summary>
    public static IEnumerable<string> Validate(string ecosystem, MirrorOptions mirror)
    {
        var prefix = $"SafeHaven:Mirrors:{ecosystem}:";
        if (!string.IsNullOrWhiteSpace(mirror.Proxy)
            && (!Uri.TryCreate(mirror.Proxy, UriKind.Absolute, out var proxy) || proxy.Scheme is not ("http" or "https")))
        {
            yield return $"{prefix}Proxy: '{Redacted(mirror.Proxy)}' is not an absolute http(s) URL";
        }
        var credentials = mirror.Credentials;
        switch (credentials.Scheme.ToLowerInvariant())
        {
            case "none":
                break;
            case "basic" when string.IsNullOrWhiteSpace(credentials.Username):
                yield return $"{prefix}Credentials:Username: required with Scheme 'basic'";
                break;
            case "basic" or "bearer":
                break;
            default:
                yield return $"{prefix}Credentials:Scheme: '{credentials.Scheme}' is not one of none, basic, bearer";
                yield break;
        }
        if (credentials.Scheme.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            yield break;
        }
        if (string.IsNullOrWhiteSpace(credentials.SecretFile))
        {
            yield return $"{prefix}Credentials:SecretFile: required with Scheme '{credentials.Scheme}'";
        }
        else if (!File.Exists(credentials.SecretFile))
        {
            yield return $"{prefix}Credentials:SecretFile: {Path.GetFullPath(credentials.SecretFile)} does not exist";
        }
        else if (string.IsNullOrWhiteSpace(File.ReadAllText(credentials.SecretFile)))
        {
            yield return $"{prefix}Credentials:SecretFile: {Path.GetFullPath(credentials.SecretFile)} is empty";
        }
    }
}

/// <summary>
/// The <c>Authorization</c> header for a private upstream. The secret is read from its file when first needed and
/// again whenever the file changes, so a rotated secret takes effect without a restart.
/// </summary>
public sealed class UpstreamCredentials
{
    private readonly string _scheme;
    private readonly string? _username;
    private readonly string _secretFile;
    private readonly Lock _lock = new();
    private DateTime _readAt;
    private AuthenticationHeaderValue? _header;

    private UpstreamCredentials(string scheme, string? username, string secretFile)
    {
        _scheme = scheme;
        _username = username;
        _secretFile = secretFile;
    }

    /// <summary>The credentials a mirror is configured with, or null for none.</summary>
    public static UpstreamCredentials? From(UpstreamCredentialOptions options) =>
        options.Scheme.Equals("none", StringComparison.OrdinalIgnoreCase) || string.IsNullOrWhiteSpace(options.SecretFile)
            ? null
            : new UpstreamCredentials(options.Scheme.ToLowerInvariant(), options.Username, options.SecretFile);

    /// <summary>The header to send, from the secret file as it is now.</summary>
    public AuthenticationHeaderValue Header()
    {
        lock (_lock)
        {
            var written = File.GetLastWriteTimeUtc(_secretFile);
            if (_header is null || written != _readAt)
            {
                var secret = File.ReadAllText(_secretFile).Trim();
                if (secret.Length == 0)
                {
                    throw new UpstreamUnavailableException($"the upstream secret file {_secretFile} is empty");
                }
                _header = _scheme == "basic"
                    ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_username}:{secret}")))
                    : new AuthenticationHeaderValue("Bearer", secret);
                _readAt = written;
            }
            return _header;
        }
    }

    /// <summary>Never the secret.</summary>
    public override string ToString() => $"{_scheme} credentials from {_secretFile}";
}
