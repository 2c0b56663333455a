using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;

/// <summary>
/// A plain static file server on a loopback port, as a channel on a web server or object store is: files from a folder,
/// 404 for anything else, a weak-free ETag (size and modification time, as nginx makes it) with <c>If-None-Match</c>.
/// It counts the requests each path received, so tests see what the appliance fetched and when.
/// </summary>
public sealed class StaticUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StaticUpstream(WebApplication app, string root, Uri baseUrl)
    {
        _app = app;
        Root = root;
        BaseUrl = baseUrl;
    }

    public string Root { get; }
    public Uri BaseUrl { get; }
    public ConcurrentDictionary<string, int> Requests { get; } = new(StringComparer.Ordinal);

    public static async Task<StaticUpstream> StartAsync(string root)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        StaticUpstream? self = null;
        app.Run(async context =>
        {
            var path = Uri.UnescapeDataString(context.Request.Path.Value ?? "/").TrimStart('/');
            self!.Requests.AddOrUpdate(path, 1, (_, n) => n + 1);
            var file = Path.GetFullPath(Path.Combine(root, path));
            if (!file.StartsWith(Path.GetFullPath(root), StringComparison.Ordinal) || !File.Exists(file))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            var info = new FileInfo(file);
            var etag = $"\"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}\"";
            context.Response.Headers.ETag = etag;
            if (context.Request.Headers.IfNoneMatch.ToString() == etag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            context.Response.ContentLength = info.Length;
            if (HttpMethods.IsGet(context.Request.Method))
            {
                await context.Response.SendFileAsync(file);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new StaticUpstream(app, root, new Uri(address.TrimEnd('/') + "/"));
        return self;
    }

    public int RequestsFor(string path) => Requests.GetValueOrDefault(path);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
