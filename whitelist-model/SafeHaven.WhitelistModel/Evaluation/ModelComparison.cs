using System.Globalization;
using System.Text;
using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>One model family's figures on one split, at the threshold chosen for it on the validation split.</summary>
public sealed record ComparisonRow(ModelAlgorithm Algorithm, bool Exportable, double Threshold, SplitFigures Figures);

/// <summary>
/// Trains every model family on the same features, examples and split, chooses each one's threshold on validation by the same rule,
/// and picks the exportable one that does best on validation: most allowlisted packages approved, then fewest long-tail packages
/// approved, then the higher ROC-AUC against all negatives.
/// </summary>
public static class ModelComparison
{
    public static (IReadOnlyList<ComparisonRow> Rows, TrainingResult Best) Compare(
        IReadOnlyList<LabelledExample> examples, IReadOnlyList<string> popularNamesByRank, TrainingSettings settings, PopularityHistory? history, bool withEnsembles)
    {
        var rows = new List<ComparisonRow>();
        var exported = new List<(TrainingResult Result, SplitFigures Validation)>();
        foreach (var algorithm in new[] { ModelAlgorithm.Logistic, ModelAlgorithm.Gam })
        {
            var result = ModelTraining.Train(examples, popularNamesByRank, settings with { Algorithm = algorithm }, history);
            var scorer = new WhitelistScorer(result.Model, history: history);
            var figures = ModelEvaluation.Evaluate(scorer, examples, history);
            rows.AddRange(figures.Select(f => new ComparisonRow(algorithm, true, scorer.Threshold, f)));
            exported.Add((result, figures.First(f => f.Split == SplitPart.Validation)));
        }
        if (withEnsembles)
        {
            var popular = popularNamesByRank.Take(settings.PopularNames).ToList();
            var extractor = new PackageFeatureExtractor(new PopularNameIndex(popular), history);
            var train = examples.Where(e => e.Split == SplitPart.Train).ToList();
            var counts = train.GroupBy(e => e.Source).ToDictionary(g => g.Key, g => g.Count());
            var vectors = train.Select(e => extractor.Extract(e.Record)).ToList();
            var trainingExamples = ModelTraining.TrainingExamples(train, vectors, settings.Features, counts);
            foreach (var algorithm in new[] { ModelAlgorithm.FastTree, ModelAlgorithm.LightGbm })
            {
                var scorer = TreeTraining.FitEnsemble(algorithm, settings.Features, trainingExamples, extractor, settings.Split.Seed, algorithm.ToString());
                var threshold = ModelTraining.ChooseThreshold(scorer, examples, settings, out _);
                rows.AddRange(ModelEvaluation.Evaluate(scorer, examples, history, threshold).Select(f => new ComparisonRow(algorithm, false, threshold, f)));
            }
        }
        var best = exported
            .OrderByDescending(e => e.Validation.ApprovalAllowlisted)
            .ThenBy(e => 1 - e.Validation.RejectionLongTail)
            .ThenByDescending(e => e.Validation.RocAucAll)
            .First().Result;
        return (rows, best);
    }

    /// <summary>A Markdown table: one row per model family and split (validation, test).</summary>
    public static string ToMarkdown(IReadOnlyList<ComparisonRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        static string Pct(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.00 %", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.AppendLine("| model | split | threshold | ROC-AUC all | PR-AUC vs malicious | approval, allowlist | rejection, malicious | rejection, malicious never popular | approval, long tail |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows.Where(r => r.Figures.Split != SplitPart.Train))
        {
            var f = r.Figures;
            sb.AppendLine(inv, $"| {r.Algorithm}{(r.Exportable ? string.Empty : " (comparison only)")} | {f.Split.ToString().ToLowerInvariant()} | {r.Threshold:0.0000} | {f.RocAucAll:0.0000} | {f.PrAucMalicious:0.0000} | {Pct(f.ApprovalAllowlisted)} | {Pct(f.RejectionMalicious)} | {Pct(f.RejectionMaliciousNeverPopular)} | {Pct(1 - f.RejectionLongTail)} |");
        }
        return sb.ToString();
    }
}
