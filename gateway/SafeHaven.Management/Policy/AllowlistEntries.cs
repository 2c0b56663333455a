using SafeHaven.Core.Tiers;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Policy;

/// <summary>How a change to a hand-added allowlist entry ended.</summary>
public enum AllowlistOutcomeKind
{
    Done,
    Invalid,
    NotFound,
    Conflict,
    Forbidden,
}

/// <summary>
/// The outcome of adding or deciding an entry: the entry as stored, or why not (<see cref="Field"/> names the bad input
/// of an <see cref="AllowlistOutcomeKind.Invalid"/> one). The API turns it into problem details, the web pages into words.
/// </summary>
public sealed record AllowlistOutcome(AllowlistOutcomeKind Kind, AllowlistEntryRecord? Entry, string Title, string Detail, string? Field = null)
{
    public static AllowlistOutcome Done(AllowlistEntryRecord entry) => new(AllowlistOutcomeKind.Done, entry, "", "");
}

/// <summary>
/// The rules of hand-added allowlist entries, in one place for the management API and the web pages: an entry (or a
/// researcher's package request, which is the same thing) starts pending with who added it and why; only a member of
/// the appliance-wide Referee college decides it (a Referee of some project is not enough: issue 11), never the person
/// who added it; a decision needs a reason; every step is audited; an approval takes effect at once.
/// </summary>
public sealed class AllowlistEntries(IPolicyStore store, TierPolicyProvider provider, TimeProvider time)
{
    /// <summary>Who may approve or reject an entry: a member of the Referee college.</summary>
    public static bool MayDecide(Caller caller) => caller.Has(Role.CollegeReferee);

    /// <summary>
    /// Who may file a package request (a pending entry) from the web application: a System Manager, or anyone who
    /// holds a role in a project (the people who install packages inside the environment).
    /// </summary>
    public static bool MayRequest(Caller caller) => caller.Has(Role.SystemManager) || caller.ProjectRoles.Count > 0;

    /// <summary>The entry's key: the package name without extras, normalised as the ecosystem compares names.</summary>
    public static string KeyOf(string ecosystem, string entry)
    {
        var bracket = entry.IndexOf('[', StringComparison.Ordinal);
        return TierPolicyProvider.NormalizeForEcosystem(ecosystem, bracket >= 0 ? entry[..bracket] : entry);
    }

    public static string UnknownEcosystemRule => $"Unknown ecosystem (one of: {string.Join(", ", Names.Ecosystems)}).";

    public AllowlistEntryRecord? Find(string ecosystem, string name) =>
        Names.IsEcosystem(ecosystem) && Names.IsPackageEntry(name)
            ? store.ListAllowlistEntries(ecosystem).FirstOrDefault(e => e.Name == KeyOf(ecosystem, name))
            : null;

    /// <summary>Adds a pending entry for <paramref name="caller"/> (the caller's permission to add is checked by whoever calls).</summary>
    public async Task<AllowlistOutcome> AddAsync(Caller caller, string ecosystem, string? entry, string? reason, CancellationToken cancellationToken)
    {
        if (Check(ecosystem, entry, reason) is { } invalid)
        {
            return invalid;
        }
        var key = KeyOf(ecosystem, entry!);
        var record = new AllowlistEntryRecord(ecosystem, key, entry!, caller.Name, reason!, time.GetUtcNow(), AllowlistEntryStatus.Pending, null, null, null);
        var added = await store.AddAllowlistEntryAsync(record, AuditRecord.Of(caller.Name, "allowlist.entry.added", $"{ecosystem}/{key}", null,
            ("entry", entry), ("status", "Pending"), ("reason", reason)), cancellationToken).ConfigureAwait(false);
        return added
            ? AllowlistOutcome.Done(record)
            : new AllowlistOutcome(AllowlistOutcomeKind.Conflict, null, "Entry exists", $"{ecosystem} already has an entry for {key}; remove it first to add it again.");
    }

    /// <summary>Approves or rejects a pending entry as <paramref name="caller"/>, with the college and separation-of-duty rules.</summary>
    public async Task<AllowlistOutcome> DecideAsync(Caller caller, string ecosystem, string name, AllowlistEntryStatus decision, string? reason, CancellationToken cancellationToken)
    {
        if (Check(ecosystem, name, reason) is { } invalid)
        {
            return invalid;
        }
        if (!MayDecide(caller))
        {
            return new AllowlistOutcome(AllowlistOutcomeKind.Forbidden, null, "Not allowed",
                "Only a member of the Referee college approves or rejects allowlist entries; a Referee of a project is not enough.");
        }
        var key = KeyOf(ecosystem, name);
        var entry = store.ListAllowlistEntries(ecosystem).FirstOrDefault(e => e.Name == key);
        if (entry is null)
        {
            return new AllowlistOutcome(AllowlistOutcomeKind.NotFound, null, "No such entry", $"{ecosystem} has no hand-added entry {key}.");
        }
        if (entry.Status != AllowlistEntryStatus.Pending)
        {
            return new AllowlistOutcome(AllowlistOutcomeKind.Conflict, entry, "Already decided",
                $"{ecosystem}/{key} was {entry.Status.ToString().ToLowerInvariant()} by {entry.DecidedBy}.");
        }
        if (string.Equals(entry.AddedBy, caller.Name, StringComparison.Ordinal))
        {
            return new AllowlistOutcome(AllowlistOutcomeKind.Forbidden, entry, "Not allowed", "The person who added an entry cannot also approve or reject it.");
        }
        var verb = decision == AllowlistEntryStatus.Approved ? "approved" : "rejected";
        var decided = await store.DecideAllowlistEntryAsync(ecosystem, key, decision, caller.Name, reason!,
            AuditRecord.Of(caller.Name, $"allowlist.entry.{verb}", $"{ecosystem}/{key}", null, ("entry", entry.Entry), ("addedBy", entry.AddedBy), ("reason", reason)),
            cancellationToken).ConfigureAwait(false);
        if (!decided)
        {
            return new AllowlistOutcome(AllowlistOutcomeKind.Conflict, entry, "Already decided", $"{ecosystem}/{key} was decided meanwhile.");
        }
        if (decision == AllowlistEntryStatus.Approved)
        {
            provider.Refresh();
        }
        return AllowlistOutcome.Done(store.ListAllowlistEntries(ecosystem).First(e => e.Name == key));
    }

    /// <summary>The first bad input of an add or a decision (ecosystem, package name, reason), or null when all are good.</summary>
    private static AllowlistOutcome? Check(string ecosystem, string? name, string? reason) =>
        !Names.IsEcosystem(ecosystem) ? Invalid("ecosystem", UnknownEcosystemRule)
        : !Names.IsPackageEntry(name) ? Invalid("name", Names.PackageRule)
        : !Names.IsText(reason) ? Invalid("reason", Names.TextRule)
        : null;

    private static AllowlistOutcome Invalid(string field, string rule) => new(AllowlistOutcomeKind.Invalid, null, "Invalid request", rule, field);
}
