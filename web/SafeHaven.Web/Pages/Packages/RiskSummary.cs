using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems;
using SafeHaven.Gateway.Ecosystems.Apt.Selection;
using SafeHaven.Gateway.Ecosystems.Cran;
using SafeHaven.Gateway.Ecosystems.NuGet;
using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Policy;
using SafeHaven.Management.Policy;

namespace SafeHaven.Web.Pages.Packages;

/// <summary>One upstream version of a requested package and what the tier does with it now.</summary>
public sealed record RiskVersion(string Version, DateTimeOffset? Uploaded, bool Visible, string State);

/// <summary>
/// The one-page risk summary a Referee decides a package request from: the whitelist model's score and reasons in
/// words, the package's age and versions with their quarantine state (from the mirror's own view), what its dependency
/// closure would add to the allowlist closure in force, and the advisories on file. Each part says plainly when its
/// data is not at hand instead of guessing.
/// </summary>
public sealed record RiskSummary(
    string Ecosystem, string Name, int Tier,
    ModelCandidate? Model, double Threshold, string ModelNote,
    IReadOnlyList<RiskVersion> Versions, DateTimeOffset? FirstUpload, string? VersionsUnavailable,
    IReadOnlyList<string> ClosureAdds, IReadOnlyList<UnsatisfiedDependency> ClosureProblems, string? ClosureUnavailable,
    IReadOnlyList<AdvisoryFix> Fixes, IReadOnlyList<MaliciousRecord> Malicious, string? AdvisoriesUnavailable)
{
    /// <summary>The OSV ecosystem name of each mirror whose tier view knows it (conda's has none).</summary>
    private static string? OsvEcosystemOf(string ecosystem) => ecosystem switch
    {
        PyPIMirror.Ecosystem => PyPIProjectView.Traits.OsvEcosystem,
        "cran" => CranChoice.Traits.OsvEcosystem,
        "nuget" => NuGetPackageView.Traits.OsvEcosystem,
        "apt" => AptSelector.Traits.OsvEcosystem,
        _ => null,
    };

    /// <summary>Builds the summary for an entry (pending or decided) with the services the mirrors themselves use.</summary>
    public static async Task<RiskSummary> BuildAsync(AllowlistEntryRecord entry, IServiceProvider services, CancellationToken cancellationToken)
    {
        var snapshot = services.GetRequiredService<TierPolicyProvider>().Current;
        var model = services.GetRequiredService<ModelApprovals>();
        var ecosystem = entry.Ecosystem;
        var name = entry.Name;

        var scores = model.Scores(ecosystem, snapshot);
        var candidate = scores is not null && scores.TryGetValue(name, out var scored) ? scored : null;
        var modelNote = scores is null
            ? $"The model scores nothing for {ecosystem}: SafeHaven:Policy:ModelInputFiles:{ecosystem} is not set or cannot be read."
            : candidate is null
                ? $"{name} is not in the model's input for {ecosystem}, so it has no score."
                : candidate.Score >= snapshot.ModelThreshold
                    ? snapshot.ModelApproves
                        ? $"At or above the threshold {snapshot.ModelThreshold:0.###}: at tier 3 the model approves it without a hand-made entry."
                        : $"At or above the threshold {snapshot.ModelThreshold:0.###}, but tier {snapshot.Policy.Tier} approves by hand only."
                    : $"Below the threshold {snapshot.ModelThreshold:0.###}: the model does not approve it.";

        var (versions, firstUpload, versionsUnavailable) = await VersionsAsync(ecosystem, name, services, cancellationToken).ConfigureAwait(false);
        var (adds, problems, closureUnavailable) = await ClosureAsync(entry, snapshot, model, services, cancellationToken).ConfigureAwait(false);

        var osv = OsvEcosystemOf(ecosystem);
        IReadOnlyList<AdvisoryFix> fixes = [];
        IReadOnlyList<MaliciousRecord> malicious = [];
        if (osv is not null)
        {
            (fixes, malicious) = snapshot.Policy.Advisories.ForPackage(osv, name);
        }
        return new RiskSummary(ecosystem, name, snapshot.Policy.Tier, candidate, snapshot.ModelThreshold, modelNote,
            versions, firstUpload, versionsUnavailable, adds, problems, closureUnavailable, fixes, malicious,
            osv is null ? $"not available: the {ecosystem} mirror has no advisory ecosystem name" : null);
    }

    private static async Task<(IReadOnlyList<RiskVersion>, DateTimeOffset?, string?)> VersionsAsync(
        string ecosystem, string name, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (ecosystem != PyPIMirror.Ecosystem)
        {
            return ([], null, $"not available: the web application reads versions and upload dates from the PyPI mirror only so far (this is {ecosystem})");
        }
        if (services.GetService<PyPIMirror>() is not { } pypi)
        {
            return ([], null, "not available: the PyPI mirror is not enabled (SafeHaven:Mirrors:pypi)");
        }
        // The quarantine view without the allowlist gate: what the tier would show once the package is approved.
        var lookup = await pypi.GetProjectAsync(name, cancellationToken, applyAllowlist: false).ConfigureAwait(false);
        if (lookup is not MirrorLookup<PyPIProjectView>.Found found)
        {
            return ([], null, lookup switch
            {
                MirrorLookup<PyPIProjectView>.NotFound n => $"not available: {n.Reason}",
                MirrorLookup<PyPIProjectView>.Unavailable u => $"not available: {u.Reason}",
                MirrorLookup<PyPIProjectView>.Hidden h => $"hidden: {h.Reason}",
                _ => "not available",
            });
        }
        var view = found.View;
        var rows = view.State.Entries
            .Where(e => e.Version is not null)
            .GroupBy(e => e.Version!, StringComparer.Ordinal)
            .Select(g =>
            {
                var decisions = g.Select(e => view.Decisions[e.File.Filename]).ToList();
                var visible = decisions.FirstOrDefault(d => d.Visible);
                var shown = visible ?? decisions[0];
                return (Parsed: g.First().ParsedVersion, Row: new RiskVersion(g.Key, g.Min(e => e.Uploaded), visible is not null, $"{shown.Code}: {shown.Reason}"));
            })
            .OrderByDescending(r => r.Parsed)
            .Select(r => r.Row)
            .ToList();
        return (rows, rows.Min(r => r.Uploaded), null);
    }

    private static async Task<(IReadOnlyList<string>, IReadOnlyList<UnsatisfiedDependency>, string?)> ClosureAsync(
        AllowlistEntryRecord entry, PolicySnapshot snapshot, ModelApprovals model, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetServices<IMirrorEcosystem>().FirstOrDefault(m => m.Ecosystem == entry.Ecosystem) is not { } mirror)
        {
            return ([], [], $"not available: the {entry.Ecosystem} mirror is not enabled");
        }
        var time = services.GetRequiredService<TimeProvider>();
        var (allowlist, _) = model.EffectiveAllowlist(entry.Ecosystem, snapshot);
        var now = services.GetRequiredService<AllowlistClosureRegistry>().Get(entry.Ecosystem)
            ?? await AllowlistClosure.BuildAsync(entry.Ecosystem, allowlist, mirror.ClosureSource, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var candidate = Allowlist.Parse([entry.Entry], n => TierPolicyProvider.NormalizeForEcosystem(entry.Ecosystem, n)).Entries;
        var with = new Allowlist([.. allowlist.Entries.Where(e => e.Name != entry.Name), .. candidate]);
        var after = await AllowlistClosure.BuildAsync(entry.Ecosystem, with, mirror.ClosureSource, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var adds = after.Packages.Where(p => !now.Contains(p)).Order(StringComparer.Ordinal).ToList();
        return (adds, after.Unsatisfied.Where(u => u.Root == entry.Name).ToList(), null);
    }
}
