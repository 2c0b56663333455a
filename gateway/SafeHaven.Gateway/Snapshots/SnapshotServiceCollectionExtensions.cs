using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;

namespace SafeHaven.Gateway.Snapshots;

public static class SnapshotGatewayExtensions
{
    /// <summary>
    /// Registers the snapshot model (store, manifests, publisher), the in-process capture and <see cref="SnapshotSync"/>.
    /// Called by <c>AddSafeHavenGateway</c>; each ecosystem module registers its <see cref="ISnapshotPlan"/>.
    /// </summary>
    public static IServiceCollection AddSafeHavenSnapshotServing(this IServiceCollection services, SafeHavenOptions options)
    {
        services.AddSafeHavenSnapshots(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton<SnapshotPipeline>();
        services.TryAddSingleton<SnapshotCapture>();
        services.TryAddSingleton<SnapshotSync>();
        return services;
    }

    /// <summary>
    /// Places snapshot serving in the pipeline, then the capture point (the rest of the pipeline, which captures
    /// invoke in process), then routing: call it before anything that needs an endpoint (authorisation) and before
    /// the mirrors are mapped.
    /// </summary>
    public static IApplicationBuilder UseSafeHavenSnapshots(this IApplicationBuilder app)
    {
        app.UseMiddleware<SnapshotServing>();
        var pipeline = app.ApplicationServices.GetRequiredService<SnapshotPipeline>();
        app.Use(next =>
        {
            pipeline.Set(next);
            return next;
        });
        app.UseRouting();
        return app;
    }
}
