using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Api;

/// <summary>
/// The filters of a read of the audit log (<c>actor</c>, <c>action</c>, <c>target</c>, <c>project</c>, <c>since</c>,
/// <c>until</c>, <c>after</c>, <c>limit</c>) and their rules, shared by <c>GET /api/audit</c> and the web application's
/// audit page so both accept and refuse exactly the same filters.
/// </summary>
public static partial class AuditQuery
{
    /// <summary>The filter keys, in the order a form shows them.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["actor", "action", "target", "project", "since", "until", "after", "limit"];

    public const int DefaultLimit = 100;

    public const int MaximumLimit = 1000;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ActorPattern();

    [GeneratedRegex(@"^[a-z][a-z0-9.-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ActionPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@/+\[\],-]{0,255}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TargetPattern();

    /// <summary>The filter, or (null and) every problem by key.</summary>
    public static (AuditFilter? Filter, Dictionary<string, string[]> Errors) Parse(IQueryCollection query)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var key in query.Keys.Where(k => !Keys.Contains(k, StringComparer.Ordinal)))
        {
            errors[key] = [$"Unknown filter (filters: {string.Join(", ", Keys)})."];
        }
        string? Text(string key, Regex pattern, string rule)
        {
            if (!query.TryGetValue(key, out var values))
            {
                return null;
            }
            var value = values.ToString();
            if (values.Count != 1 || !pattern.IsMatch(value))
            {
                errors[key] = [rule];
                return null;
            }
            return value;
        }
        DateTimeOffset? Time(string key)
        {
            if (!query.TryGetValue(key, out var values))
            {
                return null;
            }
            if (values.Count != 1 || !DateTimeOffset.TryParse(values.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                errors[key] = ["An ISO 8601 date or time, e.g. 2026-01-31T12:00:00Z."];
                return null;
            }
            return at;
        }
        long? Number(string key, long minimum, long maximum)
        {
            if (!query.TryGetValue(key, out var values))
            {
                return null;
            }
            if (values.Count != 1 || !long.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < minimum || n > maximum)
            {
                errors[key] = [$"A whole number from {minimum} to {maximum}."];
                return null;
            }
            return n;
        }
        var filter = new AuditFilter(
            Text("actor", ActorPattern(), "A user name (or cli:<account>)."),
            Text("action", ActionPattern(), "An action such as policy.changed, or a prefix such as allowlist."),
            Text("target", TargetPattern(), "A target as shown in the log."),
            Text("project", ActorPattern(), Names.ProjectRule),
            Time("since"),
            Time("until"),
            Number("after", 0, long.MaxValue),
            (int)(Number("limit", 1, MaximumLimit) ?? DefaultLimit));
        return errors.Count > 0 ? (null, errors) : (filter, errors);
    }
}
