using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Core.Configuration;

namespace SafeHaven.Gateway.Ecosystems;

/// <summary>One mirrored ecosystem: its services and its URL space. Enabled when its mirror is configured.</summary>
public interface IEcosystemModule
{
    /// <summary>The configuration key: <c>SafeHaven:Mirrors:&lt;Name&gt;</c>.</summary>
    string Name { get; }

    void AddServices(IServiceCollection services, MirrorOptions mirror, SafeHavenOptions options);

    void MapEndpoints(IEndpointRouteBuilder app);
}
