using System.Globalization;
using System.Text;
using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>An operating point: the threshold that rejects a given share of malicious names, and the approval rate it gives.</summary>
public sealed record OperatingPoint(double MaliciousRejection, double Threshold, double Approval);

/// <summary>Figures of one split at the model's threshold.</summary>
public sealed record SplitFigures
{
    public required SplitPart Split { get; init; }
    public required int Allowlisted { get; init; }
    public required int AllowlistedCore { get; init; }
    public required int AllowlistedUnranked { get; init; }
    public required int Malicious { get; init; }
    public required int MaliciousCampaigns { get; init; }
    public required int LongTail { get; init; }
    public required double RocAucAll { get; init; }
    public required double RocAucMalicious { get; init; }
    public required double PrAucAll { get; init; }
    public required double PrAucMalicious { get; init; }
    public required double ApprovalAllowlisted { get; init; }
    public required double ApprovalCore { get; init; }
    public required double ApprovalUnranked { get; init; }
    public required double RejectionMalicious { get; init; }
    public required double RejectionLongTail { get; init; }
    public required double Brier { get; init; }
    /// <summary>
    /// For information only: the approval rate of allowlisted packages at thresholds set on this split itself so that it rejects
    /// 99.5 %, 99 % and 95 % of its malicious names (the model's own threshold is fixed on the validation split).
    /// </summary>
    public required IReadOnlyList<OperatingPoint> OperatingPoints { get; init; }
    /// <summary>
    /// The rejection rate of malicious names, at the model's threshold, had each of them stayed on the index unnoticed for this
    /// many days before the mirror scored it (otherwise each is scored as observed at its report date).
    /// </summary>
    public required IReadOnlyList<(int Days, double Rejection)> MaliciousRejectionIfOnIndexFor { get; init; }
    /// <summary>
    /// Rejection of malicious names that were never a popular project (in no monthly top list and not ranked in the snapshot);
    /// NaN without a popularity history.
    /// </summary>
    public double RejectionMaliciousNeverPopular { get; init; } = double.NaN;

    /// <summary>Malicious names that were once a popular project (a name re-registered or hijacked); they are out of the model's reach.</summary>
    public int MaliciousOncePopular { get; init; }

    /// <summary>
    /// Honest-time split only: rejection of malicious names scored at points of their real lifetime (upload = first believable build,
    /// last build, halfway to the report, report).
    /// </summary>
    public IReadOnlyList<(string Point, double Rejection)> MaliciousRejectionAlongLifetime { get; init; } = [];

    public required IReadOnlyList<string> RejectedAllowlisted { get; init; }
    public required IReadOnlyList<string> ApprovedMalicious { get; init; }
}

/// <summary>Scores the labelled examples with a model and reports the figures per split.</summary>
public static class ModelEvaluation
{
    /// <summary>The ages (days on the index) at which <see cref="SplitFigures.MaliciousRejectionIfOnIndexFor"/> is measured.</summary>
    public static readonly int[] MaliciousAges = [7, 30, 90, 180, 365];

    /// <summary>The points of a malicious name's real lifetime at which it is scored again (honest-time split only).</summary>
    public static readonly IReadOnlyList<(string Point, Func<MaliciousLifetime, DateTimeOffset> At)> LifetimePoints =
    [
        ("at upload (first believable build time, else report)", l => l.Upload),
        ("at its last build", l => l.LastBuild ?? l.Upload),
        ("halfway from upload to report", l => l.Upload + (l.Reported - l.Upload) / 2),
        ("at the report date", l => l.Reported),
        ("a year after upload, had it not been reported", l => l.Upload.AddDays(365)),
    ];

    /// <summary>True when the name was ever in a monthly top list or is ranked in the snapshot: a once-popular project.</summary>
    public static bool WasEverPopular(PackageMetadataRecord record, PopularityHistory history) =>
        record.DownloadRank is not null || history.Summarise(record.NormalizedName, DateTimeOffset.MaxValue).EverRanked;

    public static IReadOnlyList<SplitFigures> Evaluate(IPackageScorer scorer, IReadOnlyList<LabelledExample> examples, PopularityHistory? history = null, double? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        var scored = examples.Select(e => (Example: e, Result: scorer.Score(e.Record))).ToList();
        return Enum.GetValues<SplitPart>().Select(part =>
        {
            var items = scored.Where(s => s.Example.Split == part).ToList();
            var pos = items.Where(s => s.Example.Source == ExampleSource.Allowlisted).ToList();
            var mal = items.Where(s => s.Example.Source == ExampleSource.Malicious).ToList();
            var tail = items.Where(s => s.Example.Source == ExampleSource.LongTail).ToList();
            var all = items.Select(s => (s.Result.Score, s.Example.Label)).ToList();
            var vsMal = pos.Concat(mal).Select(s => (s.Result.Score, s.Example.Label)).ToList();
            static double Rate<T>(IReadOnlyCollection<T> xs, Func<T, bool> f) => xs.Count == 0 ? double.NaN : (double)xs.Count(f) / xs.Count;
            bool Approves(PackageScore r) => threshold is { } t ? r.Score >= t : r.Decision == ScoreDecision.Approve;
            bool Approved((LabelledExample Example, PackageScore Result) s) => Approves(s.Result);
            var neverPopular = history is null ? [] : mal.Where(m => !WasEverPopular(m.Example.Record, history)).ToList();
            var lifetime = mal.Where(m => m.Example.Lifetime is not null).ToList();
            return new SplitFigures
            {
                Split = part,
                Allowlisted = pos.Count,
                AllowlistedCore = pos.Count(p => p.Example.Core),
                AllowlistedUnranked = pos.Count(p => p.Example.Record.DownloadRank is null),
                Malicious = mal.Count,
                MaliciousCampaigns = mal.Select(m => m.Example.Campaign).Distinct().Count(),
                LongTail = tail.Count,
                RocAucAll = Metrics.RocAuc(all),
                RocAucMalicious = Metrics.RocAuc(vsMal),
                PrAucAll = Metrics.PrAuc(all),
                PrAucMalicious = Metrics.PrAuc(vsMal),
                ApprovalAllowlisted = Rate(pos, Approved),
                ApprovalCore = Rate(pos.Where(p => p.Example.Core).ToList(), Approved),
                ApprovalUnranked = Rate(pos.Where(p => p.Example.Record.DownloadRank is null).ToList(), Approved),
                RejectionMalicious = Rate(mal, s => !Approved(s)),
                RejectionLongTail = Rate(tail, s => !Approved(s)),
                Brier = Metrics.Brier(all),
                OperatingPoints = new[] { 0.995, 0.99, 0.95 }.Select(target =>
                {
                    var t = Metrics.ThresholdForRejection(mal.Select(m => m.Result.Score).ToList(), target);
                    return new OperatingPoint(target, t, Rate(pos, p => p.Result.Score >= t));
                }).ToList(),
                MaliciousRejectionIfOnIndexFor = MaliciousAges.Select(days => (days, Rate(mal,
                    m => !Approves(scorer.Score(ReferenceData.AgedBy(m.Example.Record, days)))))).ToList(),
                RejectionMaliciousNeverPopular = history is null ? double.NaN : Rate(neverPopular, s => !Approved(s)),
                MaliciousOncePopular = history is null ? 0 : mal.Count - neverPopular.Count,
                MaliciousRejectionAlongLifetime = lifetime.Count == 0 ? [] : LifetimePoints.Select(p => (p.Point, Rate(lifetime,
                    m => !Approves(scorer.Score(m.Example.Record with { ObservedAt = p.At(m.Example.Lifetime!) }))))).ToList(),
                RejectedAllowlisted = pos.Where(p => !Approved(p)).Select(p => p.Example.Record.Name).Order(StringComparer.Ordinal).ToList(),
                ApprovedMalicious = mal.Where(Approved).Select(p => p.Example.Record.Name).Order(StringComparer.Ordinal).ToList(),
            };
        }).ToList();
    }

    /// <summary>The largest malicious campaigns: size, split part and a few member names, for auditing the grouping.</summary>
    public static string LargestCampaigns(IReadOnlyList<LabelledExample> examples, int count = 8)
    {
        var sb = new StringBuilder();
        var campaigns = examples.Where(e => e.Source == ExampleSource.Malicious).GroupBy(e => e.Campaign)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Take(count);
        foreach (var g in campaigns)
        {
            var names = g.Select(e => e.Record.Name).Order(StringComparer.Ordinal).ToList();
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {g.Count()} names, {g.First().Split.ToString().ToLowerInvariant()}: {string.Join(", ", names.Take(6))}{(names.Count > 6 ? ", ..." : string.Empty)}");
        }
        return sb.ToString();
    }

    /// <summary>A Markdown table of the figures, one column per split.</summary>
    public static string ToMarkdown(IReadOnlyList<SplitFigures> figures, WhitelistScorer scorer) =>
        ToMarkdown(figures, $"Model {scorer.Model.ModelVersion}, threshold {scorer.Threshold.ToString("0.######", CultureInfo.InvariantCulture)} (chosen on the validation split).");

    /// <summary>A Markdown table of the figures, one column per split, under a title line.</summary>
    public static string ToMarkdown(IReadOnlyList<SplitFigures> figures, string title)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(title);
        sb.AppendLine();
        sb.AppendLine("| figure | " + string.Join(" | ", figures.Select(f => f.Split.ToString().ToLowerInvariant())) + " |");
        sb.AppendLine("|---|" + string.Concat(figures.Select(_ => "---:|")));
        void Row(string label, Func<SplitFigures, string> value) => sb.AppendLine("| " + label + " | " + string.Join(" | ", figures.Select(value)) + " |");
        static string Pct(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.00 %", CultureInfo.InvariantCulture);
        static string Num(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.0000", CultureInfo.InvariantCulture);
        Row("allowlisted packages (core / not ranked)", f => $"{f.Allowlisted} ({f.AllowlistedCore} / {f.AllowlistedUnranked})");
        Row("malicious names (campaigns)", f => $"{f.Malicious} ({f.MaliciousCampaigns})");
        Row("long-tail packages", f => f.LongTail.ToString(inv));
        Row("ROC-AUC, allowlisted vs all negatives", f => Num(f.RocAucAll));
        Row("ROC-AUC, allowlisted vs malicious", f => Num(f.RocAucMalicious));
        Row("PR-AUC (average precision), vs all negatives", f => Num(f.PrAucAll));
        Row("PR-AUC (average precision), vs malicious", f => Num(f.PrAucMalicious));
        Row("approval rate, reference allowlist", f => Pct(f.ApprovalAllowlisted));
        Row("approval rate, core allowlist", f => Pct(f.ApprovalCore));
        Row("approval rate, allowlisted but not ranked", f => Pct(f.ApprovalUnranked));
        Row("rejection rate, malicious", f => Pct(f.RejectionMalicious));
        Row("rejection rate, long tail", f => Pct(f.RejectionLongTail));
        if (figures.Any(f => !double.IsNaN(f.RejectionMaliciousNeverPopular)))
        {
            Row("rejection rate, malicious names that were never a popular project", f => Pct(f.RejectionMaliciousNeverPopular));
            Row("malicious names that were once a popular project (out of reach)", f => f.MaliciousOncePopular.ToString(inv));
            Row("approval rate, long tail", f => Pct(1 - f.RejectionLongTail));
        }
        Row("Brier score (all)", f => Num(f.Brier));
        foreach (var target in figures[0].OperatingPoints.Select(p => p.MaliciousRejection))
        {
            Row($"for information: approval rate at a threshold set on this split to reject {target.ToString("0.0 %", inv)} of its malicious names",
                f => Pct(f.OperatingPoints.First(p => p.MaliciousRejection == target).Approval));
        }
        foreach (var days in figures[0].MaliciousRejectionIfOnIndexFor.Select(p => p.Days))
        {
            Row($"sensitivity: rejection rate, malicious, had each stayed on the index {days} days before being scored",
                f => Pct(f.MaliciousRejectionIfOnIndexFor.First(p => p.Days == days).Rejection));
        }
        foreach (var point in figures[0].MaliciousRejectionAlongLifetime.Select(p => p.Point))
        {
            Row($"lifetime: rejection rate, malicious, scored {point}",
                f => Pct(f.MaliciousRejectionAlongLifetime.FirstOrDefault(p => p.Point == point).Rejection));
        }
        var test = figures.FirstOrDefault(f => f.Split == SplitPart.Test);
        if (test is not null)
        {
            sb.AppendLine();
            sb.AppendLine(inv, $"Test: allowlisted packages rejected ({test.RejectedAllowlisted.Count}): {string.Join(", ", test.RejectedAllowlisted)}");
            sb.AppendLine();
            sb.AppendLine(inv, $"Test: malicious names approved ({test.ApprovedMalicious.Count}): {string.Join(", ", test.ApprovedMalicious)}");
        }
        return sb.ToString();
    }
}
