using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Quartz;
using SafeHaven.Management.Api;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>
/// <c>GET /api/sync/{eco}</c> (System or Programme Manager): one mirror's sync and current snapshot (the list is part of
/// the management API's <c>GET /api/sync</c>, through <see cref="SafeHaven.Gateway.Snapshots.ISnapshotSyncReports"/>). <c>POST /api/sync/{eco}</c> (System Manager): starts a sync now, 202 with the status URL as Location;
/// an ecosystem that is not synced here is a 404 problem, one already running (on any replica) a 409 problem.
/// </summary>
public static class SyncEndpoints
{
    public static IEndpointRouteBuilder MapSnapshotSync(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/sync");
        group.MapGet("/{ecosystem}", async (string ecosystem, SyncReports view, CancellationToken cancellationToken) =>
        {
            try
            {
                return Results.Ok(await view.OneAsync(ecosystem, cancellationToken).ConfigureAwait(false));
            }
            catch (UnknownSyncEcosystemException e)
            {
                return NotSynced(e);
            }
        }).RequireAuthorization(ManagementPolicies.Oversight);
        group.MapPost("/{ecosystem}", async (string ecosystem, SyncRunner runner, ISchedulerFactory schedulers, CancellationToken cancellationToken) =>
        {
            try
            {
                runner.Require(ecosystem);
            }
            catch (UnknownSyncEcosystemException e)
            {
                return NotSynced(e);
            }
            if (await runner.IsRunningAsync(ecosystem, cancellationToken).ConfigureAwait(false))
            {
                return Results.Problem(title: "Sync already running", detail: $"a sync of {ecosystem} is already running; follow it at /api/sync/{ecosystem}",
                    statusCode: StatusCodes.Status409Conflict);
            }
            var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
            await scheduler.TriggerJob(SyncJob.Key, new JobDataMap { [SyncJob.EcosystemEntry] = ecosystem, [SyncJob.TriggerEntry] = "api" }, cancellationToken).ConfigureAwait(false);
            return Results.Accepted($"/api/sync/{ecosystem}", new { ecosystem, status = "started", location = $"/api/sync/{ecosystem}" });
        }).RequireAuthorization(ManagementPolicies.SystemManager);
        return app;
    }

    private static IResult NotSynced(UnknownSyncEcosystemException e) =>
        Results.Problem(title: "Not a synced mirror", detail: e.Message, statusCode: StatusCodes.Status404NotFound);
}
