using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;

namespace SafeHaven.Web.Pages.Packages;

/// <summary>One ecosystem's allowlist: the names in force (files and approved entries) and every hand-added entry.</summary>
public sealed record AllowlistSection(string Ecosystem, IReadOnlyList<string> InForce, string? File, IReadOnlyList<AllowlistEntryRecord> Entries);

/// <summary>
/// The allowlists per ecosystem as <c>GET /api/allowlists/{eco}</c> shows them (System Managers and college Referees),
/// with each pending entry's approve and reject form for a Referee who may decide it (the rules of
/// <see cref="AllowlistEntries"/>; the form posts to the request page, which decides).
/// </summary>
[RequireRole(Role.SystemManager, Role.CollegeReferee)]
public sealed class AllowlistsModel(TierPolicyProvider policy, IPolicyStore store, IOptionsMonitor<SafeHavenOptions> options) : SafeHavenPage
{
    public int Tier { get; private set; }
    public IReadOnlyList<AllowlistSection> Sections { get; private set; } = [];

    public bool CanDecide(AllowlistEntryRecord entry) => entry.Status == AllowlistEntryStatus.Pending && AllowlistEntries.MayDecide(Caller)
        && !string.Equals(entry.AddedBy, Caller.Name, StringComparison.Ordinal);

    public void OnGet()
    {
        var snapshot = policy.Current;
        Tier = snapshot.Policy.Tier;
        var entries = store.ListAllowlistEntries(null);
        Sections = Names.Ecosystems.Select(eco => new AllowlistSection(
                eco,
                snapshot.AllowlistFor(eco).Entries.Select(e => e.Name).Order(StringComparer.Ordinal).ToList(),
                options.CurrentValue.Policy.AllowlistFiles.TryGetValue(eco, out var file) && !string.IsNullOrWhiteSpace(file) ? Path.GetFullPath(file) : null,
                entries.Where(e => e.Ecosystem == eco).OrderBy(e => e.Status).ThenBy(e => e.Name, StringComparer.Ordinal).ToList()))
            .Where(s => s.InForce.Count > 0 || s.Entries.Count > 0 || options.CurrentValue.Mirrors.TryGetValue(s.Ecosystem, out var m) && m.Enabled)
            .ToList();
    }
}
