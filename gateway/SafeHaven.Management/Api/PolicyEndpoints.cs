using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Snapshots;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;

namespace SafeHaven.Management.Api;

/// <summary>
/// <c>/api/policy</c>, <c>/api/allowlists</c> and <c>/api/sync</c>: the tier policy in force, changed at runtime by
/// System Managers (effective at once, no restart), and allowlist entries with who added and approved them.
/// </summary>
internal static class PolicyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/policy", (TierPolicyProvider provider, IPolicyStore store, IOptionsMonitor<SafeHavenOptions> options) =>
                ManagementJson.Ok(View(provider.Current, store, options.CurrentValue)))
            .RequireAuthorization(ManagementPolicies.SystemManager)
            .WithSummary("The tier policy in force, as configured and as overridden at runtime (System Manager).")
            .Produces<PolicyView>();

        api.MapPut("/policy", ChangePolicyAsync)
            .RequireAuthorization(ManagementPolicies.SystemManager)
            .WithSummary("Change the tier, quarantine, staleness bound or model threshold; effective at once (System Manager).")
            .Accepts<PolicyChangeRequest>("application/json").Produces<PolicyView>();

        api.MapGet("/allowlists/{ecosystem}", (string ecosystem, TierPolicyProvider provider, IPolicyStore store, IOptionsMonitor<SafeHavenOptions> options) =>
            {
                if (!Names.IsEcosystem(ecosystem))
                {
                    return UnknownEcosystem();
                }
                var files = options.CurrentValue.Policy.AllowlistFiles.TryGetValue(ecosystem, out var file) && !string.IsNullOrWhiteSpace(file) && File.Exists(file)
                    ? [new AllowlistFileView(Path.GetFullPath(file), Allowlist.Load(file, n => TierPolicyProvider.NormalizeForEcosystem(ecosystem, n)).Entries.Select(Format).ToList(),
                        $"the owner of {Path.GetFullPath(file)} (SafeHaven:Policy:AllowlistFiles:{ecosystem})")]
                    : new List<AllowlistFileView>();
                return ManagementJson.Ok(new AllowlistView(ecosystem, provider.Current.AllowlistFor(ecosystem).Entries.Select(Format).ToList(),
                    store.ListAllowlistEntries(ecosystem), files));
            })
            .RequireAuthorization(ManagementPolicies.AllowlistReaders)
            .WithSummary("Allowlist entries of an ecosystem: in force, hand-added (with status and provenance) and from files (System Manager, Referees).")
            .Produces<AllowlistView>();

        api.MapPost("/allowlists/{ecosystem}/entries", AddEntryAsync)
            .RequireAuthorization(ManagementPolicies.SystemManager)
            .WithSummary("Add an entry by hand; it takes effect once a Referee approves it (System Manager).")
            .Accepts<AllowlistEntryRequest>("application/json").Produces<AllowlistEntryRecord>(StatusCodes.Status201Created);

        api.MapPost("/allowlists/{ecosystem}/entries/{name}/approve", (string ecosystem, string name, HttpContext http, AllowlistEntries entries, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecideAsync(ecosystem, name, AllowlistEntryStatus.Approved, http, entries, auth, cancellationToken))
            .RequireAuthorization(ManagementPolicies.Referee)
            .WithSummary("Approve a pending hand-added entry (a Referee other than the person who added it).")
            .Accepts<DecisionRequest>("application/json").Produces<AllowlistEntryRecord>();

        api.MapPost("/allowlists/{ecosystem}/entries/{name}/reject", (string ecosystem, string name, HttpContext http, AllowlistEntries entries, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecideAsync(ecosystem, name, AllowlistEntryStatus.Rejected, http, entries, auth, cancellationToken))
            .RequireAuthorization(ManagementPolicies.Referee)
            .WithSummary("Reject a pending hand-added entry (a Referee other than the person who added it).")
            .Accepts<DecisionRequest>("application/json").Produces<AllowlistEntryRecord>();

        api.MapDelete("/allowlists/{ecosystem}/entries/{name}", RemoveEntryAsync)
            .RequireAuthorization(ManagementPolicies.SystemManager)
            .WithSummary("Remove a hand-added entry; effective at once (System Manager).")
            .Produces(StatusCodes.Status204NoContent);

        api.MapGet("/sync", async (HttpContext http, TierPolicyProvider provider, MirrorHealth health, AllowlistClosureRegistry closures, IOptionsMonitor<SafeHavenOptions> options,
            CancellationToken cancellationToken) =>
            {
                var snapshot = provider.Current;
                var mirrors = options.CurrentValue.Mirrors.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m =>
                {
                    var status = health.Get(m.Key);
                    var closure = closures.Get(m.Key);
                    return new MirrorSyncView(m.Key, m.Value.Enabled && m.Value.HasUpstream, status.LastSuccess, status.LastFailure,
                        status.LastError, status.StaleResponses, closure?.ComputedAt, closure?.Packages.Count, closure?.Unsatisfied.Count);
                }).ToList();
                // Snapshots and their scheduled sync, when the appliance runs them (the mirror-sync part registers the reports).
                var snapshots = http.RequestServices.GetService<ISnapshotSyncReports>() is { } reports
                    ? await reports.ListAsync(cancellationToken).ConfigureAwait(false)
                    : [];
                return ManagementJson.Ok(new SyncView(snapshot.Policy.Tier, snapshot.Generation, mirrors, snapshots));
            })
            .RequireAuthorization(ManagementPolicies.Oversight)
            .WithSummary("Mirror sync status: upstream successes and failures, closures, snapshots and their scheduled sync (System Manager, Programme Manager).")
            .Produces<SyncView>();
    }

    private static string Format(AllowlistEntry entry) =>
        (entry.Extras.Count == 0 ? entry.Name : $"{entry.Name}[{string.Join(",", entry.Extras.Order(StringComparer.Ordinal))}]")
        + (entry.Constraint.Length == 0 ? "" : "@" + entry.Constraint);

    private static IResult UnknownEcosystem() => ManagementJson.Invalid("ecosystem", AllowlistEntries.UnknownEcosystemRule);

    internal static PolicyView View(PolicySnapshot snapshot, IPolicyStore store, SafeHavenOptions options) => new(
        snapshot.Generation,
        new PolicyValues(snapshot.Policy.Tier, (int)snapshot.Policy.MinimumAge.TotalDays, (int)snapshot.Policy.MaximumLag.TotalDays, snapshot.ModelThreshold),
        new PolicyValues(options.Tier, options.Policy.MinimumAgeDays, options.Policy.MaximumLagDays, options.Policy.ModelThreshold),
        store.GetSettings(),
        snapshot.Allowlists.OrderBy(a => a.Key, StringComparer.Ordinal).ToDictionary(a => a.Key, a => a.Value.Entries.Count, StringComparer.Ordinal));

    private static async Task<IResult> ChangePolicyAsync(HttpContext http, IPolicyStore store, TierPolicyProvider provider,
        IOptionsMonitor<SafeHavenOptions> options, IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (request, problem) = await ManagementJson.ReadAsync<PolicyChangeRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var errors = PolicyChanges.Validate(request, store, options.CurrentValue);
        if (errors.Count > 0)
        {
            return ManagementJson.Invalid(errors);
        }
        var snapshot = await PolicyChanges.ApplyAsync(Caller.From(http.User)!, request, store, provider, cancellationToken).ConfigureAwait(false);
        return ManagementJson.Ok(View(snapshot, store, options.CurrentValue));
    }

    private static async Task<IResult> AddEntryAsync(string ecosystem, HttpContext http, AllowlistEntries entries,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        if (!Names.IsEcosystem(ecosystem))
        {
            return UnknownEcosystem();
        }
        var (request, problem) = await ManagementJson.ReadAsync<AllowlistEntryRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var errors = new Dictionary<string, string[]>();
        if (!Names.IsPackageEntry(request.Name)) { errors["name"] = [Names.PackageRule]; }
        if (!Names.IsText(request.Reason)) { errors["reason"] = [Names.TextRule]; }
        if (errors.Count > 0)
        {
            return ManagementJson.Invalid(errors);
        }
        var outcome = await entries.AddAsync(Caller.From(http.User)!, ecosystem, request.Name, request.Reason, cancellationToken).ConfigureAwait(false);
        return outcome.Kind == AllowlistOutcomeKind.Done ? ManagementJson.Ok(outcome.Entry!, StatusCodes.Status201Created) : ToProblem(outcome);
    }

    private static async Task<IResult> DecideAsync(string ecosystem, string name, AllowlistEntryStatus decision, HttpContext http, AllowlistEntries entries,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        if (!Names.IsEcosystem(ecosystem))
        {
            return UnknownEcosystem();
        }
        if (!Names.IsPackageEntry(name))
        {
            return ManagementJson.Invalid("name", Names.PackageRule);
        }
        var (request, problem) = await ManagementJson.ReadDecisionAsync(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var outcome = await entries.DecideAsync(Caller.From(http.User)!, ecosystem, name, decision, request.Reason, cancellationToken).ConfigureAwait(false);
        return outcome.Kind == AllowlistOutcomeKind.Done ? ManagementJson.Ok(outcome.Entry!) : ToProblem(outcome);
    }

    private static IResult ToProblem(AllowlistOutcome outcome) => outcome.Kind switch
    {
        AllowlistOutcomeKind.Invalid => ManagementJson.Invalid(outcome.Field!, outcome.Detail),
        AllowlistOutcomeKind.NotFound => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: outcome.Title, detail: outcome.Detail),
        AllowlistOutcomeKind.Conflict => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: outcome.Title, detail: outcome.Detail),
        _ => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: outcome.Title, detail: outcome.Detail),
    };

    private static async Task<IResult> RemoveEntryAsync(string ecosystem, string name, HttpContext http, IPolicyStore store, TierPolicyProvider provider, CancellationToken cancellationToken)
    {
        if (!Names.IsEcosystem(ecosystem))
        {
            return UnknownEcosystem();
        }
        if (!Names.IsPackageEntry(name))
        {
            return ManagementJson.Invalid("name", Names.PackageRule);
        }
        var caller = Caller.From(http.User)!;
        var key = AllowlistEntries.KeyOf(ecosystem, name);
        var entry = store.ListAllowlistEntries(ecosystem).FirstOrDefault(e => e.Name == key);
        if (entry is null || !await store.RemoveAllowlistEntryAsync(ecosystem, key,
                AuditRecord.Of(caller.Name, "allowlist.entry.removed", $"{ecosystem}/{key}", null, ("entry", entry.Entry), ("status", entry.Status.ToString())),
                cancellationToken).ConfigureAwait(false))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such entry", detail: $"{ecosystem} has no hand-added entry {key}.");
        }
        if (entry.Status == AllowlistEntryStatus.Approved)
        {
            provider.Refresh();
        }
        return Results.NoContent();
    }

}
