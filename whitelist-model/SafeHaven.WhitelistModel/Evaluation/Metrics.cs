namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>Ranking metrics over scores where a higher score means "more likely allowlisted" (label true).</summary>
public static class Metrics
{
    /// <summary>Area under the ROC curve (probability that a random positive outscores a random negative; ties count half).</summary>
    public static double RocAuc(IReadOnlyList<(double Score, bool Label)> items)
    {
        var sorted = items.OrderBy(i => i.Score).ToList();
        double positives = sorted.Count(i => i.Label), negatives = sorted.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }
        double rankSum = 0;
        var k = 0;
        while (k < sorted.Count)
        {
            var end = k;
            while (end + 1 < sorted.Count && sorted[end + 1].Score == sorted[k].Score)
            {
                end++;
            }
            var averageRank = (k + end) / 2.0 + 1;
            for (var t = k; t <= end; t++)
            {
                if (sorted[t].Label)
                {
                    rankSum += averageRank;
                }
            }
            k = end + 1;
        }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

    /// <summary>Area under the precision-recall curve as average precision (step-wise, tied scores taken together).</summary>
    public static double PrAuc(IReadOnlyList<(double Score, bool Label)> items)
    {
        var sorted = items.OrderByDescending(i => i.Score).ToList();
        double positives = sorted.Count(i => i.Label);
        if (positives == 0)
        {
            return double.NaN;
        }
        double tp = 0, fp = 0, ap = 0, lastRecall = 0;
        var k = 0;
        while (k < sorted.Count)
        {
            var end = k;
            while (end + 1 < sorted.Count && sorted[end + 1].Score == sorted[k].Score)
            {
                end++;
            }
            for (var t = k; t <= end; t++)
            {
                if (sorted[t].Label)
                {
                    tp++;
                }
                else
                {
                    fp++;
                }
            }
            var recall = tp / positives;
            ap += (recall - lastRecall) * (tp / (tp + fp));
            lastRecall = recall;
            k = end + 1;
        }
        return ap;
    }

    /// <summary>Mean squared difference between score and label.</summary>
    public static double Brier(IReadOnlyList<(double Score, bool Label)> items) =>
        items.Count == 0 ? double.NaN : items.Average(i => Math.Pow(i.Score - (i.Label ? 1 : 0), 2));

    /// <summary>
    /// The lowest threshold at which no more than <c>1 - targetRejection</c> of the negative scores reach it
    /// (a score is approved when <c>score &gt;= threshold</c>).
    /// </summary>
    public static double ThresholdForRejection(IReadOnlyList<double> negativeScores, double targetRejection)
    {
        if (negativeScores.Count == 0)
        {
            return 0.5;
        }
        var sorted = negativeScores.OrderByDescending(s => s).ToList();
        var allowed = (int)Math.Floor((1 - targetRejection) * sorted.Count + 1e-9);
        if (allowed >= sorted.Count)
        {
            return 0;
        }
        // Approve at most `allowed` negatives: the threshold sits just above the (allowed+1)-th highest negative score.
        return Math.Min(1.0, Math.BitIncrement(sorted[allowed]));
    }

    /// <summary>
    /// The default threshold: the lowest threshold that rejects at least <paramref name="targetRejection"/> of the negative (malicious)
    /// scores approves the most positives; every higher threshold up to the lowest positive score it approves approves as many.
    /// The threshold is the middle of that range in log-odds, leaving a margin on both sides.
    /// </summary>
    /// <param name="negativeScores">Malicious scores.</param>
    /// <param name="positiveScores">Allowlisted scores.</param>
    /// <param name="targetRejection">Share of the negatives to reject at least.</param>
    /// <param name="floor">The threshold is at least this (e.g. to approve at most a share of another class).</param>
    public static double ChooseThreshold(IReadOnlyList<double> negativeScores, IReadOnlyList<double> positiveScores, double targetRejection, double floor = 0)
    {
        var low = Math.Max(ThresholdForRejection(negativeScores, targetRejection), floor);
        var approved = positiveScores.Where(s => s >= low).ToList();
        if (approved.Count == 0 || low <= 0)
        {
            return low;
        }
        var high = approved.Min();
        static double Logit(double p) => Math.Log(Math.Clamp(p, 1e-12, 1 - 1e-12) / (1 - Math.Clamp(p, 1e-12, 1 - 1e-12)));
        var middle = (Logit(low) + Logit(high)) / 2;
        var threshold = 1 / (1 + Math.Exp(-middle));
        return Math.Clamp(threshold, low, high);
    }
}
