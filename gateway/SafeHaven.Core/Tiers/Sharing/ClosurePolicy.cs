using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SafeHaven.Core.Tiers.Sharing;

/// <summary>
/// What an ecosystem's allowlist closure is computed from, as one SHA-256: the tier and its date rules, the model
/// threshold and score files, the advisories folder's files, and the allowlist's entries. A replica adopts a closure another replica stored only when
/// its own policy has the same fingerprint (fail closed: a replica that has not yet seen a policy change, or has seen
/// a newer one, keeps its own closure, or none, rather than serve one computed for another policy).
/// </summary>
public static class ClosurePolicy
{
    public static string Fingerprint(PolicySnapshot snapshot, string ecosystem)
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"tier={snapshot.Policy.Tier}\n")
            .Append(CultureInfo.InvariantCulture, $"minimum-age={snapshot.Policy.MinimumAge.Ticks}\nmaximum-lag={snapshot.Policy.MaximumLag.Ticks}\n")
            .Append(CultureInfo.InvariantCulture, $"model-threshold={snapshot.ModelThreshold:R}\n")
            // Malicious-package records hide versions, which changes what the closure follows.
            .Append(CultureInfo.InvariantCulture, $"advisories={snapshot.Policy.Advisories.Fingerprint}\n");
        if (snapshot.ModelInputFiles?.TryGetValue(ecosystem, out var scores) == true)
        {
            text.Append("model-scores=").Append(scores).Append('\n');
        }
        foreach (var entry in snapshot.AllowlistFor(ecosystem).Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            text.Append("entry=").Append(entry.Name).Append('[').AppendJoin(',', entry.Extras.Order(StringComparer.Ordinal)).Append(']')
                .Append('@').Append(entry.Constraint).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
