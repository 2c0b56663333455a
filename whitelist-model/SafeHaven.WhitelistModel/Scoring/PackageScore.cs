using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Scoring;

/// <summary>Scores a package from its metadata.</summary>
public interface IPackageScorer
{
    PackageScore Score(PackageMetadataRecord record);
}

/// <summary>Approve or reject against the model threshold.</summary>
public enum ScoreDecision
{
    Reject,
    Approve,
}

/// <summary>
/// How much one feature moved the score: <see cref="Contribution"/> is its effect on the log-odds
/// (positive pushes towards approval), <see cref="Text"/> says it in words.
/// </summary>
public sealed record FeatureContribution(string FeatureId, string Words, double? Value, string Shown, double Contribution, string Text);

/// <summary>
/// The model's verdict on one package: <see cref="Score"/> in 0..1, the <see cref="Decision"/> against <see cref="Threshold"/>,
/// and the explanation: every feature the model uses, largest effect first, plus the features it computed but does not use.
/// </summary>
public sealed record PackageScore(
    string Name,
    double Score,
    double Threshold,
    ScoreDecision Decision,
    string ModelVersion,
    IReadOnlyList<FeatureContribution> Contributions,
    IReadOnlyList<FeatureContribution> NotUsed)
{
    /// <summary>The decision as written in TSV output: <c>approve</c> or <c>reject</c>.</summary>
    public string DecisionText => Decision == ScoreDecision.Approve ? "approve" : "reject";

    /// <summary>The strongest reasons, in words, most influential first (only those with a noticeable effect).</summary>
    public IReadOnlyList<string> TopReasons(int count = 3) =>
        Contributions.Where(c => Math.Abs(c.Contribution) >= 0.05).Take(count).Select(c => c.Text).ToList();
}
