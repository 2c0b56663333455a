using Microsoft.Extensions.Logging;
using SafeHaven.Core.Tiers;
using SafeHaven.WhitelistModel.Extractors;
using Features = SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.Gateway.Policy;

/// <summary>One scored row of an ecosystem's model input file.</summary>
public sealed record ModelCandidate(string Name, double Score, IReadOnlyList<string> Reasons);

/// <summary>What a change of the model threshold would do to one ecosystem: names newly approved and no longer approved.</summary>
public sealed record ModelPreview(
    string Ecosystem, int Tier, bool ModelApprovesAtThisTier, double CurrentThreshold, double ProposedThreshold, int Scored,
    int ApprovedNow, int ApprovedAtProposed, IReadOnlyList<ModelCandidate> Added, IReadOnlyList<ModelCandidate> Removed);

/// <summary>
/// Tier 3 approval by the whitelist model: scores every row of <c>SafeHaven:Policy:ModelInputFiles:&lt;eco&gt;</c>
/// with the shipped model and approves those at or above the threshold in force. With
/// <c>SafeHaven:Policy:PopularityHistoryFiles:&lt;eco&gt;</c> the history model (<c>pypi-v2</c>) scores as of today, without it
/// <c>pypi-v1</c>. Scores are cached per file version (paths, last write times and the day), so a threshold change or preview
/// costs no rescoring.
/// </summary>
public sealed class ModelApprovals(ILogger<ModelApprovals> logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Key, IReadOnlyDictionary<string, ModelCandidate> Scores)> _byEcosystem = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Every scored candidate of the ecosystem, by normalised name; null when the ecosystem has no model input file
    /// or no model. A file that cannot be read is logged and treated as absent: it never approves anything.
    /// </summary>
    public IReadOnlyDictionary<string, ModelCandidate>? Scores(string ecosystem, PolicySnapshot snapshot)
    {
        if (snapshot.ModelInputFiles is null || !snapshot.ModelInputFiles.TryGetValue(ecosystem, out var path) || string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        if (EcosystemNames.TryParse(ecosystem) is not { } parsed)
        {
            return null;
        }
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            logger.LogError("SafeHaven:Policy:ModelInputFiles:{Ecosystem} names {Path}, which does not exist; the model approves nothing", ecosystem, path);
            return null;
        }
        FileInfo? history = null;
        if (snapshot.PopularityHistoryFiles is not null && snapshot.PopularityHistoryFiles.TryGetValue(ecosystem, out var historyPath) && !string.IsNullOrWhiteSpace(historyPath))
        {
            history = new FileInfo(historyPath);
            if (!history.Exists)
            {
                logger.LogError("SafeHaven:Policy:PopularityHistoryFiles:{Ecosystem} names {Path}, which does not exist; the model approves nothing", ecosystem, historyPath);
                return null;
            }
        }
        var today = DateTimeOffset.UtcNow.Date;
        var key = $"{info.FullName}\n{info.LastWriteTimeUtc.Ticks}\n{info.Length}"
            + (history is null ? string.Empty : $"\n{history.FullName}\n{history.LastWriteTimeUtc.Ticks}\n{history.Length}\n{today:yyyy-MM-dd}");
        lock (_lock)
        {
            if (_byEcosystem.TryGetValue(ecosystem, out var cached) && cached.Key == key)
            {
                return cached.Scores;
            }
        }
        try
        {
            var scorer = WhitelistScorer.LoadShipped(parsed, history: history is null ? null : Features.PopularityHistory.Load(history.FullName));
            using var reader = new StreamReader(info.FullName);
            var records = TsvRowExtractor.ExtractAll(TsvTable.Parse(reader), parsed, DateTimeOffset.UtcNow);
            var scores = new Dictionary<string, ModelCandidate>(StringComparer.Ordinal);
            foreach (var record in records)
            {
                var score = scorer.Score(record);
                var name = TierPolicyProvider.NormalizeForEcosystem(ecosystem, record.Name);
                scores[name] = new ModelCandidate(name, score.Score, score.TopReasons());
            }
            logger.LogInformation("Scored {Count} {Ecosystem} packages from {Path} with model {Model}{History}", scores.Count, ecosystem, path, scorer.Model.ModelVersion,
                history is null ? string.Empty : $" and the popularity history {history.FullName}");
            lock (_lock)
            {
                _byEcosystem[ecosystem] = (key, scores);
            }
            return scores;
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidDataException)
        {
            logger.LogError("Model input for {Ecosystem} cannot be used, the model approves nothing: {Reason}", ecosystem, e.Message);
            return null;
        }
    }

    /// <summary>Names the model approves at <paramref name="threshold"/>, in name order.</summary>
    public static IReadOnlyList<string> ApprovedAt(IReadOnlyDictionary<string, ModelCandidate> scores, double threshold) =>
        scores.Values.Where(c => c.Score >= threshold).Select(c => c.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// What moving the threshold to <paramref name="proposed"/> would change: the names the model would newly approve
    /// and those it would stop approving (hand-approved names are left out: the model does not decide them). Null when
    /// the ecosystem has no model input. Shared by <c>/api/mirrors/{eco}/model-preview</c> and the web threshold page.
    /// </summary>
    public ModelPreview? Preview(string ecosystem, PolicySnapshot snapshot, double proposed)
    {
        if (Scores(ecosystem, snapshot) is not { } scores)
        {
            return null;
        }
        var hand = snapshot.AllowlistFor(ecosystem).Entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var current = ApprovedAt(scores, snapshot.ModelThreshold).Where(n => !hand.Contains(n)).ToHashSet(StringComparer.Ordinal);
        var next = ApprovedAt(scores, proposed).Where(n => !hand.Contains(n)).ToHashSet(StringComparer.Ordinal);
        return new ModelPreview(ecosystem, snapshot.Policy.Tier, snapshot.ModelApproves, snapshot.ModelThreshold, proposed, scores.Count,
            current.Count, next.Count,
            next.Except(current).Order(StringComparer.Ordinal).Select(n => scores[n]).ToList(),
            current.Except(next).Order(StringComparer.Ordinal).Select(n => scores[n]).ToList());
    }

    /// <summary>
    /// The allowlist in force for a closure: hand-made entries, plus at Tier 3 the model-approved names.
    /// Returns the merged list and the names only the model approved.
    /// </summary>
    public (Allowlist Allowlist, IReadOnlyList<string> ModelApproved) EffectiveAllowlist(string ecosystem, PolicySnapshot snapshot)
    {
        var hand = snapshot.AllowlistFor(ecosystem);
        if (!snapshot.ModelApproves || Scores(ecosystem, snapshot) is not { } scores)
        {
            return (hand, []);
        }
        var handNames = hand.Entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var byModel = ApprovedAt(scores, snapshot.ModelThreshold).Where(n => !handNames.Contains(n)).ToList();
        var entries = hand.Entries.Concat(byModel.Select(n => new AllowlistEntry(n, new HashSet<string>()))).ToList();
        return (new Allowlist(entries), byModel);
    }

    /// <summary>
    /// Computes an ecosystem's closure of the effective allowlist (<see cref="EffectiveAllowlist"/>) over
    /// <paramref name="source"/>, with the model's part of the report attached: what a mirror puts in force when the
    /// universe it serves changed.
    /// </summary>
    public async Task<AllowlistClosure> BuildClosureAsync(string ecosystem, PolicySnapshot snapshot, IClosureSource source, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (allowlist, modelApproved) = EffectiveAllowlist(ecosystem, snapshot);
        var closure = await AllowlistClosure.BuildAsync(ecosystem, allowlist, source, now, cancellationToken).ConfigureAwait(false);
        return closure.WithModelReport(modelApproved, Unapproved(ecosystem, snapshot, closure, modelApproved));
    }

    /// <summary>
    /// Dependencies the closure pulled in that neither a hand-made entry nor the model approves, with their
    /// score when the model input has one. The client's base system (the closure's implicit roots, e.g. apt's
    /// Essential and required packages) and everything it needs are left out: every installation has them already.
    /// </summary>
    public IReadOnlyList<UnapprovedDependency> Unapproved(string ecosystem, PolicySnapshot snapshot, AllowlistClosure closure, IReadOnlyList<string> modelApproved)
    {
        var approved = snapshot.AllowlistFor(ecosystem).Entries.Select(e => e.Name).Concat(modelApproved).ToHashSet(StringComparer.Ordinal);
        var scores = Scores(ecosystem, snapshot);
        var threshold = snapshot.ModelThreshold;
        var result = new List<UnapprovedDependency>();
        var baseSystem = closure.ImplicitRoots.ToHashSet(StringComparer.Ordinal);
        foreach (var package in closure.Packages.Where(p => !approved.Contains(p)).Order(StringComparer.Ordinal))
        {
            var requiredBy = closure.RequiredBy.TryGetValue(package, out var roots) ? roots : [];
            if (baseSystem.Contains(package) || requiredBy.Any(baseSystem.Contains))
            {
                continue;
            }
            if (scores is not null && scores.TryGetValue(package, out var candidate))
            {
                var note = candidate.Score >= threshold
                    ? $"scores {candidate.Score:0.000}, at or above the threshold {threshold:0.###}, but tier {snapshot.Policy.Tier} approves by hand only"
                    : $"scores {candidate.Score:0.000}, below the threshold {threshold:0.###}: {string.Join("; ", candidate.Reasons)}";
                result.Add(new UnapprovedDependency(package, requiredBy, candidate.Score, note));
            }
            else
            {
                result.Add(new UnapprovedDependency(package, requiredBy, null,
                    scores is null ? "not on the approved list (no model input to score it)" : "not on the approved list and absent from the model input, so unscored"));
            }
        }
        return result;
    }
}
