using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
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

        api.MapPost("/allowlists/{ecosystem}/entries/{name}/approve", (string ecosystem, string name, HttpContext http, IPolicyStore store, TierPolicyProvider provider, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecideAsync(ecosystem, name, AllowlistEntryStatus.Approved, http, store, provider, auth, cancellationToken))
            .RequireAuthorization(ManagementPolicies.Referee)
            .WithSummary("Approve a pending hand-added entry (a Referee other than the person who added it).")
            .Accepts<DecisionRequest>("application/json").Produces<AllowlistEntryRecord>();

        api.MapPost("/allowlists/{ecosystem}/entries/{name}/reject", (string ecosystem, string name, HttpContext http, IPolicyStore store, TierPolicyProvider provider, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecideAsync(ecosystem, name, AllowlistEntryStatus.Rejected, http, store, provider, auth, cancellationToken))
            .RequireAuthorization(ManagementPolicies.Referee)
            .WithSummary("Reject a pending hand-added entry (a Referee other than the person who added it).")
            .Accepts<DecisionRequest>("application/json").Produces<AllowlistEntryRecord>();

        api.MapDelete("/allowlists/{ecosystem}/entries/{name}", RemoveEntryAsync)
            .RequireAuthorization(ManagementPolicies.SystemManager)
            .WithSummary("Remove a hand-added entry; effective at once (System Manager).")
            .Produces(StatusCodes.Status204NoContent);

        api.MapGet("/sync", (TierPolicyProvider provider, MirrorHealth health, AllowlistClosureRegistry closures, IOptionsMonitor<SafeHavenOptions> options) =>
            {
                var snapshot = provider.Current;
                var mirrors = options.CurrentValue.Mirrors.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m =>
                {
                    var status = health.Get(m.Key);
                    var closure = closures.Get(m.Key);
                    return new MirrorSyncView(m.Key, m.Value.Enabled && m.Value.HasUpstream, status.LastSuccess, status.LastFailure,
                        status.LastError, status.StaleResponses, closure?.ComputedAt, closure?.Packages.Count, closure?.Unsatisfied.Count);
                }).ToList();
                return ManagementJson.Ok(new SyncView(snapshot.Policy.Tier, snapshot.Generation, mirrors));
            })
            .RequireAuthorization(ManagementPolicies.Oversight)
            .WithSummary("Mirror sync status: upstream successes and failures, closures (System Manager, Programme Manager).")
            .Produces<SyncView>();
    }

    private static string Format(AllowlistEntry entry) =>
        (entry.Extras.Count == 0 ? entry.Name : $"{entry.Name}[{string.Join(",", entry.Extras.Order(StringComparer.Ordinal))}]")
        + (entry.Constraint.Length == 0 ? "" : "@" + entry.Constraint);

    private static IResult UnknownEcosystem() =>
        ManagementJson.Invalid("ecosystem", $"Unknown ecosystem (one of: {string.Join(", ", Names.Ecosystems)}).");

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
        var errors = new Dictionary<string, string[]>();
        if (request.Tier is < 0 or > 4) { errors["tier"] = ["A tier is 0 to 4."]; }
        if (request.MinimumAgeDays is < 0 or > 3650) { errors["minimumAgeDays"] = ["0 to 3650 days."]; }
        if (request.MaximumLagDays is < 1 or > 3650) { errors["maximumLagDays"] = ["1 to 3650 days."]; }
        if (request.ModelThreshold is { } t && (double.IsNaN(t) || t < 0 || t > 1)) { errors["modelThreshold"] = ["0.0 to 1.0."]; }
        var reset = request.Reset ?? [];
        if (reset.Any(r => !SqlitePolicyStore.SettingNames.Contains(r, StringComparer.Ordinal)))
        {
            errors["reset"] = [$"Settings that can be reset: {string.Join(", ", SqlitePolicyStore.SettingNames)}."];
        }
        if (!Names.IsText(request.Reason)) { errors["reason"] = [Names.TextRule]; }
        if (request is { Tier: null, MinimumAgeDays: null, MaximumLagDays: null, ModelThreshold: null } && reset.Count == 0)
        {
            errors["body"] = ["Nothing to change."];
        }
        if (errors.Count == 0)
        {
            var current = store.GetSettings();
            var configured = options.CurrentValue;
            int? Pick(int? requested, int? stored, string name) => requested ?? (reset.Contains(name) ? null : stored);
            var tier = Pick(request.Tier, current.Tier, "tier") ?? configured.Tier;
            var minimum = Pick(request.MinimumAgeDays, current.MinimumAgeDays, "minimumAgeDays") ?? configured.Policy.MinimumAgeDays;
            var maximum = Pick(request.MaximumLagDays, current.MaximumLagDays, "maximumLagDays") ?? configured.Policy.MaximumLagDays;
            if (tier >= 2 && minimum > maximum)
            {
                errors["minimumAgeDays"] = [$"The quarantine ({minimum} days) would exceed the staleness bound ({maximum} days): the mirror could never be within it."];
            }
        }
        if (errors.Count > 0)
        {
            return ManagementJson.Invalid(errors);
        }
        var caller = Caller.From(http.User)!;
        var before = provider.Current;
        var changes = new PolicySettings(request.Tier, request.MinimumAgeDays, request.MaximumLagDays, request.ModelThreshold);
        await store.SetSettingsAsync(changes, reset.Where(r => !IsSet(changes, r)).ToList(), AuditRecord.Of(caller.Name, "policy.changed", "policy", null,
            ("tier", request.Tier?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("minimumAgeDays", request.MinimumAgeDays?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("maximumLagDays", request.MaximumLagDays?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("modelThreshold", request.ModelThreshold?.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
            ("reset", reset.Count == 0 ? null : string.Join(",", reset)),
            ("previousTier", before.Policy.Tier.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("reason", request.Reason)), cancellationToken).ConfigureAwait(false);
        var snapshot = provider.Refresh();
        return ManagementJson.Ok(View(snapshot, store, options.CurrentValue));
    }

    private static bool IsSet(PolicySettings changes, string name) => name switch
    {
        "tier" => changes.Tier is not null,
        "minimumAgeDays" => changes.MinimumAgeDays is not null,
        "maximumLagDays" => changes.MaximumLagDays is not null,
        "modelThreshold" => changes.ModelThreshold is not null,
        _ => false,
    };

    private static async Task<IResult> AddEntryAsync(string ecosystem, HttpContext http, IPolicyStore store, TimeProvider time,
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
        var caller = Caller.From(http.User)!;
        var key = KeyOf(ecosystem, request.Name);
        var record = new AllowlistEntryRecord(ecosystem, key, request.Name, caller.Name, request.Reason, time.GetUtcNow(), AllowlistEntryStatus.Pending, null, null, null);
        var added = await store.AddAllowlistEntryAsync(record, AuditRecord.Of(caller.Name, "allowlist.entry.added", $"{ecosystem}/{key}", null,
            ("entry", request.Name), ("status", "Pending"), ("reason", request.Reason)), cancellationToken).ConfigureAwait(false);
        if (!added)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Entry exists",
                detail: $"{ecosystem} already has an entry for {key}; remove it first to add it again.");
        }
        return ManagementJson.Ok(record, StatusCodes.Status201Created);
    }

    private static async Task<IResult> DecideAsync(string ecosystem, string name, AllowlistEntryStatus decision, HttpContext http, IPolicyStore store,
        TierPolicyProvider provider, IOptions<AuthOptions> auth, CancellationToken cancellationToken)
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
        var caller = Caller.From(http.User)!;
        var key = KeyOf(ecosystem, name);
        var entry = store.ListAllowlistEntries(ecosystem).FirstOrDefault(e => e.Name == key);
        if (entry is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such entry", detail: $"{ecosystem} has no hand-added entry {key}.");
        }
        if (entry.Status != AllowlistEntryStatus.Pending)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already decided",
                detail: $"{ecosystem}/{key} was {entry.Status.ToString().ToLowerInvariant()} by {entry.DecidedBy}.");
        }
        if (string.Equals(entry.AddedBy, caller.Name, StringComparison.Ordinal))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not allowed",
                detail: "The person who added an entry cannot also approve or reject it.");
        }
        var verb = decision == AllowlistEntryStatus.Approved ? "approved" : "rejected";
        var decided = await store.DecideAllowlistEntryAsync(ecosystem, key, decision, caller.Name, request.Reason,
            AuditRecord.Of(caller.Name, $"allowlist.entry.{verb}", $"{ecosystem}/{key}", null, ("entry", entry.Entry), ("addedBy", entry.AddedBy), ("reason", request.Reason)),
            cancellationToken).ConfigureAwait(false);
        if (!decided)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already decided", detail: $"{ecosystem}/{key} was decided meanwhile.");
        }
        if (decision == AllowlistEntryStatus.Approved)
        {
            provider.Refresh();
        }
        return ManagementJson.Ok(store.ListAllowlistEntries(ecosystem).First(e => e.Name == key));
    }

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
        var key = KeyOf(ecosystem, name);
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

    /// <summary>The entry's key: the package name without extras, normalised as the ecosystem compares names.</summary>
    private static string KeyOf(string ecosystem, string entry)
    {
        var bracket = entry.IndexOf('[', StringComparison.Ordinal);
        return TierPolicyProvider.NormalizeForEcosystem(ecosystem, bracket >= 0 ? entry[..bracket] : entry);
    }
}
