using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using SafeHaven.Management.Api;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages.Audit;

/// <summary>
/// The audit log for the people <c>GET /api/audit</c> admits (System and Programme Managers), with the same filters and
/// the same rules for them (<see cref="AuditQuery"/>), a page at a time in sequence order, and the hash chain's
/// verification for those <c>GET /api/audit/verify</c> admits (System Managers).
/// </summary>
[RequireRole(Role.SystemManager, Role.ProgrammeManager)]
public sealed class IndexModel(IAuditLog audit) : SafeHavenPage
{
    public static IReadOnlyList<int> PageSizes { get; } = [25, 50, 100, 250];

    public IReadOnlyList<AuditEntry> Entries { get; private set; } = [];

    public IReadOnlyDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();

    /// <summary>The filters as given (empty fields left out), to show them back in the form and carry them to the next page.</summary>
    public IReadOnlyDictionary<string, string> Filters { get; private set; } = new Dictionary<string, string>();

    public AuditVerification? Verification { get; private set; }

    public bool MayVerify => Caller.Has(Role.SystemManager);

    public string? NextPage { get; private set; }

    public string? FirstPage { get; private set; }

    public int Limit { get; private set; } = 50;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var given = Request.Query
            .Where(q => !StringValues.IsNullOrEmpty(q.Value) && q.Value.ToString().Trim().Length > 0)
            .ToDictionary(q => q.Key, q => q.Value.Count == 1 ? new StringValues(q.Value.ToString().Trim()) : q.Value, StringComparer.Ordinal);
        if (!given.ContainsKey("limit"))
        {
            given["limit"] = Limit.ToString(CultureInfo.InvariantCulture);
        }
        Filters = given.Where(g => g.Key != "after").ToDictionary(g => g.Key, g => g.Value.ToString(), StringComparer.Ordinal);
        var (filter, errors) = AuditQuery.Parse(new QueryCollection(given));
        if (MayVerify)
        {
            Verification = await audit.VerifyAsync(cancellationToken);
        }
        if (filter is null)
        {
            Errors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        Limit = filter.Limit;
        // One more than a page tells whether another page follows.
        var entries = await audit.QueryAsync(filter with { Limit = Math.Min(filter.Limit + 1, AuditQuery.MaximumLimit + 1) }, cancellationToken);
        Entries = entries.Take(filter.Limit).ToList();
        if (entries.Count > filter.Limit)
        {
            NextPage = Link(new Dictionary<string, string>(Filters) { ["after"] = Entries[^1].Sequence.ToString(CultureInfo.InvariantCulture) });
        }
        if (filter.AfterSequence is not null)
        {
            FirstPage = Link(Filters);
        }
    }

    public string Filter(string key) => Filters.TryGetValue(key, out var value) ? value : "";

    private static string Link(IReadOnlyDictionary<string, string> query) =>
        QueryHelpers.AddQueryString("/audit", query.Select(q => new KeyValuePair<string, string?>(q.Key, q.Value)));

    public static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
