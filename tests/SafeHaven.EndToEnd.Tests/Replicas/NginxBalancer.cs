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
        var servers = string.Join("\n", replicaPorts.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"));
        var (process, prefix, port) = await NginxServer.LaunchAsync((prefix, port) => $$"""
                log_format replicas '$request_method $request_uri $status upstream=$upstream_addr upstream_status=$upstream_status';
                access_log {{prefix}}/logs/access.log replicas;
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
            """, connections: 1024);
        var balancer = new NginxBalancer(process, prefix, port);
        await Ports.WaitForHttpAsync(new Uri(balancer.BaseUrl, "readyz"), TimeSpan.FromSeconds(30), diagnostics: () => balancer.ErrorLog);
        return balancer;
    }

    public ValueTask DisposeAsync() => ServerProcesses.DisposeAsync(_process, _prefix);
}
