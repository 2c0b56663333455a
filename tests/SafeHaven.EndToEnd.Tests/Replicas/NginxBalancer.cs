using System.Diagnostics;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Replicas;

/// <summary>
/// A real nginx (Debian nginx-light) balancing over appliance replicas, configured as appliance/deploy/nginx-replicas.conf
/// recommends: round robin, passive health (<c>max_fails</c>/<c>fail_timeout</c>), a failed or refused connection
/// retried on the next replica (<c>proxy_next_upstream</c>), responses buffered so a replica dying after it answered
/// costs the client nothing. Its access log names the replica that answered each request.
/// </summary>
public sealed class NginxBalancer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _prefix;

    private NginxBalancer(Process process, string prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        Port = port;
    }

    public int Port { get; }
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    /// <summary>One line per request: <c>METHOD URI STATUS upstream=ADDR[, ADDR] upstream_status=S[, S]</c>.</summary>
    public string AccessLog
    {
        get
        {
            var path = Path.Combine(_prefix, "logs", "access.log");
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd();
        }
    }

    public string ErrorLog => File.Exists(Path.Combine(_prefix, "logs", "error.log")) ? File.ReadAllText(Path.Combine(_prefix, "logs", "error.log")) : "";

    public static async Task<NginxBalancer> StartAsync(IEnumerable<int> replicaPorts)
    {
        var nginx = new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed (apt-get install nginx-light); tests/run.sh installs it.");
        var prefix = Directory.CreateTempSubdirectory("safehaven-balancer-").FullName;
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        var port = Ports.GetFree();
        var servers = string.Join("\n", replicaPorts.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"));
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            worker_processes 1;
            daemon off;
            master_process off;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/logs/error.log warn;
            events { worker_connections 1024; }
            http {
                log_format replicas '$request_method $request_uri $status upstream=$upstream_addr upstream_status=$upstream_status';
                access_log {{prefix}}/logs/access.log replicas;
                client_body_temp_path {{prefix}}/body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
                upstream safehaven {
            {{servers}}
                    keepalive 32;
                }
                server {
                    listen 127.0.0.1:{{port}};
                    client_max_body_size 0;
                    location / {
                        proxy_pass http://safehaven;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $http_host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_connect_timeout 2s;
                        proxy_read_timeout 120s;
                        proxy_next_upstream error timeout http_502 http_503;
                        proxy_next_upstream_tries 3;
                        proxy_next_upstream_timeout 30s;
                    }
                }
            }
            """);
        var info = new ProcessStartInfo(nginx) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["-p", prefix, "-c", config])
        {
            info.ArgumentList.Add(argument);
        }
        var balancer = new NginxBalancer(Process.Start(info)!, prefix, port);
        await Ports.WaitForHttpAsync(new Uri(balancer.BaseUrl, "readyz"), TimeSpan.FromSeconds(30), diagnostics: () => balancer.ErrorLog);
        return balancer;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
