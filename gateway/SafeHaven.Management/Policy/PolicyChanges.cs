using System.Globalization;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Api;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Policy;

/// <summary>
/// A change of the runtime policy (tier, quarantine, staleness bound, model threshold), checked and applied the same
/// way from <c>PUT /api/policy</c> and from the web application's threshold page: validated against the values that
/// would result, stored with one <c>policy.changed</c> audit record, effective at once. Who may change it (a System
/// Manager) is checked by the caller.
/// </summary>
public static class PolicyChanges
{
    /// <summary>The problems with <paramref name="request"/> by field; empty when it may be applied.</summary>
    public static Dictionary<string, string[]> Validate(PolicyChangeRequest request, IPolicyStore store, SafeHavenOptions configured)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Tier is < 0 or > 4) { errors["tier"] = ["A tier is 0 to 4."]; }
        if (request.MinimumAgeDays is < 0 or > 3650) { errors["minimumAgeDays"] = ["0 to 3650 days."]; }
        if (request.MaximumLagDays is < 1 or > 3650) { errors["maximumLagDays"] = ["1 to 3650 days."]; }
        if (request.ModelThreshold is { } t && (double.IsNaN(t) || t < 0 || t > 1)) { errors["modelThreshold"] = ["0.0 to 1.0."]; }
        var reset = request.Reset ?? [];
        if (reset.Any(r => !DatabasePolicyStore.SettingNames.Contains(r, StringComparer.Ordinal)))
        {
            errors["reset"] = [$"Settings that can be reset: {string.Join(", ", DatabasePolicyStore.SettingNames)}."];
        }
        if (!Names.IsText(request.Reason)) { errors["reason"] = [Names.TextRule]; }
        if (request is { Tier: null, MinimumAgeDays: null, MaximumLagDays: null, ModelThreshold: null } && reset.Count == 0)
        {
            errors["body"] = ["Nothing to change."];
        }
        if (errors.Count == 0)
        {
            var current = store.GetSettings();
            int? Pick(int? requested, int? stored, string name) => requested ?? (reset.Contains(name) ? null : stored);
            var tier = Pick(request.Tier, current.Tier, "tier") ?? configured.Tier;
            var minimum = Pick(request.MinimumAgeDays, current.MinimumAgeDays, "minimumAgeDays") ?? configured.Policy.MinimumAgeDays;
            var maximum = Pick(request.MaximumLagDays, current.MaximumLagDays, "maximumLagDays") ?? configured.Policy.MaximumLagDays;
            if (tier >= 2 && minimum > maximum)
            {
                errors["minimumAgeDays"] = [$"The quarantine ({minimum} days) would exceed the staleness bound ({maximum} days): the mirror could never be within it."];
            }
        }
        return errors;
    }

    /// <summary>Stores a validated change with its audit record and returns the policy now in force.</summary>
    public static async Task<PolicySnapshot> ApplyAsync(Caller caller, PolicyChangeRequest request, IPolicyStore store, TierPolicyProvider provider, CancellationToken cancellationToken)
    {
        var reset = request.Reset ?? [];
        var before = provider.Current;
        var changes = new PolicySettings(request.Tier, request.MinimumAgeDays, request.MaximumLagDays, request.ModelThreshold);
        await store.SetSettingsAsync(changes, reset.Where(r => !IsSet(changes, r)).ToList(), AuditRecord.Of(caller.Name, "policy.changed", "policy", null,
            ("tier", request.Tier?.ToString(CultureInfo.InvariantCulture)),
            ("minimumAgeDays", request.MinimumAgeDays?.ToString(CultureInfo.InvariantCulture)),
            ("maximumLagDays", request.MaximumLagDays?.ToString(CultureInfo.InvariantCulture)),
            ("modelThreshold", request.ModelThreshold?.ToString("R", CultureInfo.InvariantCulture)),
            ("reset", reset.Count == 0 ? null : string.Join(",", reset)),
            ("previousTier", before.Policy.Tier.ToString(CultureInfo.InvariantCulture)),
            ("reason", request.Reason)), cancellationToken).ConfigureAwait(false);
        return provider.Refresh();
    }

    private static bool IsSet(PolicySettings changes, string name) => name switch
    {
        "tier" => changes.Tier is not null,
        "minimumAgeDays" => changes.MinimumAgeDays is not null,
        "maximumLagDays" => changes.MaximumLagDays is not null,
        "modelThreshold" => changes.ModelThreshold is not null,
        _ => false,
    };
}
