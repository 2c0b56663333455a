using MathNet.Numerics.LinearAlgebra;

namespace SafeHaven.WhitelistModel.Scoring;

/// <summary>One training example: feature values in the trainer's feature order (null = unknown), label and sample weight.</summary>
public sealed record TrainingExample(double?[] Values, bool Label, double Weight = 1.0);

/// <summary>The fitted coefficients, in the order of the feature ids given to the trainer.</summary>
public sealed record LogisticFit(double Intercept, IReadOnlyList<ModelFeature> Features, int Iterations);

/// <summary>
/// L2-regularised logistic regression fitted by Newton's method (iteratively reweighted least squares) with MathNet.Numerics.
/// Features are standardised on the training set; an unknown value is set to the training mean, so it contributes nothing.
/// Deterministic: the same examples in the same order give the same coefficients.
/// </summary>
public static class LogisticTrainer
{
    public static LogisticFit Fit(IReadOnlyList<string> featureIds, IReadOnlyList<TrainingExample> examples, double l2 = 1.0, int maxIterations = 100)
    {
        ArgumentNullException.ThrowIfNull(featureIds);
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0 || !examples.Any(e => e.Label) || examples.All(e => e.Label))
        {
            throw new ArgumentException("training needs examples of both classes", nameof(examples));
        }
        var d = featureIds.Count;
        var means = new double[d];
        var scales = new double[d];
        for (var j = 0; j < d; j++)
        {
            var known = examples.Where(e => e.Values[j] is not null).Select(e => e.Values[j]!.Value).ToList();
            means[j] = known.Count == 0 ? 0 : known.Average();
            var variance = known.Count == 0 ? 0 : known.Sum(v => (v - means[j]) * (v - means[j])) / known.Count;
            scales[j] = variance > 1e-12 ? Math.Sqrt(variance) : 1.0;
        }

        var n = examples.Count;
        var x = Matrix<double>.Build.Dense(n, d + 1);
        var y = Vector<double>.Build.Dense(n);
        var w = Vector<double>.Build.Dense(n);
        for (var i = 0; i < n; i++)
        {
            var e = examples[i];
            x[i, 0] = 1;
            for (var j = 0; j < d; j++)
            {
                x[i, j + 1] = e.Values[j] is { } v ? (v - means[j]) / scales[j] : 0;
            }
            y[i] = e.Label ? 1 : 0;
            w[i] = e.Weight;
        }

        var penalty = Matrix<double>.Build.DenseIdentity(d + 1) * l2;
        penalty[0, 0] = 0;
        var beta = Vector<double>.Build.Dense(d + 1);
        var iterations = 0;
        for (; iterations < maxIterations; iterations++)
        {
            var eta = x * beta;
            var p = eta.Map(Sigmoid);
            var residual = (y - p).PointwiseMultiply(w);
            var gradient = x.TransposeThisAndMultiply(residual) - penalty * beta;
            var curvature = p.PointwiseMultiply(1 - p).PointwiseMultiply(w).Map(v => Math.Max(v, 1e-12));
            var weighted = x.Clone();
            for (var i = 0; i < n; i++)
            {
                weighted.SetRow(i, x.Row(i) * curvature[i]);
            }
            var hessian = x.TransposeThisAndMultiply(weighted) + penalty;
            var step = hessian.Cholesky().Solve(gradient);
            beta += step;
            if (step.AbsoluteMaximum() < 1e-9)
            {
                iterations++;
                break;
            }
        }

        var features = featureIds.Select((id, j) => new ModelFeature { Id = id, Mean = means[j], Scale = scales[j], Weight = beta[j + 1] }).ToList();
        return new LogisticFit(beta[0], features, iterations);
    }

    public static double Sigmoid(double z) => z >= 0 ? 1.0 / (1.0 + Math.Exp(-z)) : Math.Exp(z) / (1.0 + Math.Exp(z));
}
