using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Policy;
using SafeHaven.Management.Api;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;

namespace SafeHaven.Web.Pages.Packages;

/// <summary>
/// The whitelist model's threshold (System Managers): a proposed value is first previewed per ecosystem (which
/// packages the model would newly approve and which it would stop approving: <see cref="ModelApprovals.Preview"/>, as
/// <c>/api/mirrors/{eco}/model-preview</c>), then confirmed with a reason, which changes it through the policy store
/// exactly as <c>PUT /api/policy</c> does (<see cref="PolicyChanges"/>, audited as <c>policy.changed</c>).
/// </summary>
[RequireRole(Role.SystemManager)]
public sealed class ThresholdModel(TierPolicyProvider policy, ModelApprovals model, IPolicyStore store, IOptionsMonitor<SafeHavenOptions> options) : SafeHavenPage
{
    public PolicySnapshot Snapshot { get; private set; } = null!;
    public double? Proposed { get; private set; }
    public IReadOnlyList<ModelPreview> Previews { get; private set; } = [];
    public IReadOnlyList<string> Unscored { get; private set; } = [];
    public string? Problem { get; private set; }
    public bool Changed { get; private set; }

    public void OnGet(string? threshold, bool changed = false)
    {
        Changed = changed;
        if (threshold is not null)
        {
            if (Parse(threshold) is { } value)
            {
                Proposed = value;
            }
            else
            {
                Problem = "The proposed threshold is a number from 0 to 1.";
                Response.StatusCode = StatusCodes.Status400BadRequest;
            }
        }
        Load();
    }

    public async Task<IActionResult> OnPostAsync(string? threshold, string? reason, CancellationToken cancellationToken)
    {
        var value = Parse(threshold);
        var request = new PolicyChangeRequest { ModelThreshold = value, Reason = reason ?? "" };
        var errors = value is null
            ? new Dictionary<string, string[]> { ["modelThreshold"] = ["0.0 to 1.0."] }
            : PolicyChanges.Validate(request, store, options.CurrentValue);
        if (errors.Count > 0)
        {
            Problem = string.Join(" ", errors.Select(e => $"{(e.Key == "reason" ? "Reason" : "Threshold")}: {string.Join(" ", e.Value)}"));
            Proposed = value;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Load();
            return Page();
        }
        await PolicyChanges.ApplyAsync(Caller, request, store, policy, cancellationToken).ConfigureAwait(false);
        return Redirect("/packages/threshold?changed=true");
    }

    private static double? Parse(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && !double.IsNaN(value) && value is >= 0 and <= 1 ? value : null;

    private void Load()
    {
        Snapshot = policy.Current;
        if (Proposed is not { } proposed)
        {
            return;
        }
        var previews = new List<ModelPreview>();
        var unscored = new List<string>();
        foreach (var ecosystem in Names.Ecosystems)
        {
            if (model.Preview(ecosystem, Snapshot, proposed) is { } preview)
            {
                previews.Add(preview);
            }
            else
            {
                unscored.Add(ecosystem);
            }
        }
        Previews = previews;
        Unscored = unscored;
    }
}
