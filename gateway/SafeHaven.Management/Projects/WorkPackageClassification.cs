using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Projects;

/// <summary>
/// One classifier's proposed tier for a work package. <see cref="Answers"/>: their answers to the classification
/// flowchart ("yes"/"no" in the order asked, see <see cref="ClassificationFlowchart"/>), or null when they gave the tier
/// without walking it (the API allows that).
/// </summary>
public sealed record Classification(string Classifier, Role Role, int Tier, string Reason, DateTimeOffset At, IReadOnlyList<string>? Answers = null);

public enum ClassificationState
{
    /// <summary>Not every required classifier has classified yet.</summary>
    Pending,

    /// <summary>Every required classifier has classified, all at the same tier.</summary>
    Agreed,

    /// <summary>Two classifiers proposed different tiers: the work package cannot proceed until they agree.</summary>
    Disagreed,
}

/// <summary>Where a work package's classification stands.</summary>
public sealed record ClassificationOutcome(
    ClassificationState State, int? AgreedTier, int? HighestProposedTier, IReadOnlyList<Role> Missing, string Explanation)
{
    public bool CanProceed => State == ClassificationState.Agreed;
}

/// <summary>
/// The paper's rule: the Investigator and the Dataset Provider Representative each classify the work package; where
/// the tier is 2 or above, a Referee classifies it too. The agreed tier is the one every classifier proposed; if any
/// two differ, the work package cannot proceed, and the highest proposed tier is shown (it is the one the
/// disagreement would most likely settle on, and the safe assumption meanwhile).
/// </summary>
public static class WorkPackageClassification
{
    public static readonly IReadOnlyList<Role> Classifiers = [Role.Investigator, Role.DatasetProviderRepresentative, Role.Referee];

    /// <summary>The tier from which a Referee must classify as well.</summary>
    public const int RefereeRequiredFromTier = 2;

    public static bool IsClassifier(Role role) => Classifiers.Contains(role);

    /// <summary>
    /// Decides the outcome. One person fills one classifier role: if the same person appears in two roles (written
    /// past the API, which refuses it), only their earliest classification counts and the other role stays missing.
    /// </summary>
    public static ClassificationOutcome Decide(IReadOnlyCollection<Classification> recorded)
    {
        var classifications = recorded.OrderBy(c => c.At).GroupBy(c => c.Classifier, StringComparer.Ordinal).Select(g => g.First()).ToList();
        var ignored = recorded.Count - classifications.Count;
        if (classifications.Count == 0)
        {
            return new ClassificationOutcome(ClassificationState.Pending, null, null,
                [Role.Investigator, Role.DatasetProviderRepresentative], "No classification has been recorded yet.");
        }
        var highest = classifications.Max(c => c.Tier);
        var tiers = classifications.Select(c => c.Tier).Distinct().Order().ToList();
        var required = new List<Role> { Role.Investigator, Role.DatasetProviderRepresentative };
        if (highest >= RefereeRequiredFromTier)
        {
            required.Add(Role.Referee);
        }
        var missing = required.Where(r => !classifications.Any(c => c.Role == r)).ToList();
        if (tiers.Count > 1)
        {
            var proposals = string.Join(", ", classifications.OrderBy(c => c.Role).ThenBy(c => c.Classifier, StringComparer.Ordinal)
                .Select(c => $"{c.Role} {c.Classifier}: tier {c.Tier}"));
            return new ClassificationOutcome(ClassificationState.Disagreed, null, highest, missing,
                $"The classifiers disagree ({proposals}); the work package cannot proceed until they agree. Highest proposed: tier {highest}.");
        }
        if (missing.Count > 0)
        {
            return new ClassificationOutcome(ClassificationState.Pending, null, highest, missing,
                $"Waiting for {string.Join(", ", missing)} (tier {highest} proposed{(highest >= RefereeRequiredFromTier ? "; a Referee classifies from tier 2" : "")})."
                + (ignored > 0 ? $" {ignored} classification(s) by someone who already classified in another role do not count: each role needs a different person." : ""));
        }
        return new ClassificationOutcome(ClassificationState.Agreed, highest, highest, [],
            $"All classifiers agree on tier {highest}.");
    }
}
