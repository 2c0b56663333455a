using System.Diagnostics;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>
/// A real nginx serving a folder on loopback as a static upstream registry. Directory requests answer with
/// <c>index.json</c> (typed as PEP 691 JSON) or <c>index.html</c>, as a static mirror of a simple index does.
/// </summary>
public sealed class NginxServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _prefix;

    private NginxServer(Process process, string prefix, int port, string root)
    {
        _process = process;
        _prefix = prefix;
        Port = port;
        Root = root;
    }

    public int Port { get; }
    public string Root { get; }
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    /// <summary>The access log (remote user, <c>Via</c> header and whether an Authorization header came), when asked for.</summary>
    public string AccessLogPath => Path.Combine(_prefix, "logs", "access.log");

    /// <param name="serverDirectives">Extra directives inside the <c>server</c> block (authentication, say).</param>
    /// <param name="accessLog">Whether to write <see cref="AccessLogPath"/>.</param>
    /// <param name="port">A port to listen on (an upstream coming back where it was), else a free one.</param>
    public static async Task<NginxServer> StartAsync(string root, string? serverDirectives = null, bool accessLog = false, int? port = null)
    {
        var (process, prefix, listening) = await LaunchAsync((prefix, port) => $$"""
                log_format safehaven '$request_method $request_uri $status user=$remote_user via="$http_via"';
                access_log {{(accessLog ? prefix + "/logs/access.log safehaven" : "off")}};
                types {
                    application/vnd.pypi.simple.v1+json json;
                    text/html html;
                    application/octet-stream whl gz zip metadata;
                }
                default_type application/octet-stream;
                sendfile on;
                server {
                    listen 127.0.0.1:{{port}};
                    root {{root}};
                    index index.json index.html;
                    {{serverDirectives ?? ""}}
                }
            """, port: port);
        var server = new NginxServer(process, prefix, listening, root);
        await Ports.WaitForHttpAsync(server.BaseUrl, TimeSpan.FromSeconds(20), r => true,
            () => File.Exists(Path.Combine(prefix, "logs", "error.log")) ? File.ReadAllText(Path.Combine(prefix, "logs", "error.log")) : "");
        return server;
    }

    /// <summary>
    /// Starts Debian's nginx in the foreground (one process) on <paramref name="port"/> or a free loopback port, in a temporary prefix with a
    /// <c>logs</c> folder; <paramref name="http"/> gives the directives of the <c>http</c> block for (prefix, port).
    /// </summary>
    internal static async Task<(Process Process, string Prefix, int Port)> LaunchAsync(Func<string, int, string> http, int connections = 256, int? port = null)
    {
        var nginx = new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed (apt-get install nginx-light); .ci/run installs it.");
        var prefix = Directory.CreateTempSubdirectory("safehaven-nginx-").FullName;
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        var chosen = port ?? Ports.GetFree();
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            worker_processes 1;
            daemon off;
            master_process off;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/logs/error.log warn;
            events { worker_connections {{connections}}; }
            http {
                client_body_temp_path {{prefix}}/body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
            {{http(prefix, chosen)}}
            }
            """);
        var info = new ProcessStartInfo(nginx) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["-p", prefix, "-c", config])
        {
            info.ArgumentList.Add(argument);
        }
        return (Process.Start(info)!, prefix, chosen);
    }

    public Task StopAsync() => ServerProcesses.StopAsync(_process);

    public ValueTask DisposeAsync() => ServerProcesses.DisposeAsync(_process, _prefix);
}
