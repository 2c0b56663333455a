using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>The model families <c>safehaven whitelist train</c> can fit on the same features and split.</summary>
public enum ModelAlgorithm
{
    /// <summary>L2 logistic regression (Newton/IRLS on MathNet.Numerics): one weight per feature.</summary>
    Logistic,

    /// <summary>Microsoft.ML GAM: boosted one-feature trees, one shape function per feature (exact per-feature contributions).</summary>
    Gam,

    /// <summary>Microsoft.ML FastTree: boosted trees with interactions; measured for comparison, not exported.</summary>
    FastTree,

    /// <summary>Microsoft.ML LightGBM: boosted trees with interactions; measured for comparison, not exported.</summary>
    LightGbm,
}

/// <summary>
/// Fits the Microsoft.ML tree models on the training examples. Unknown feature values are given the training mean (as the
/// logistic regression does); every trainer runs on one thread from a fixed seed, so the same data give the same model.
/// </summary>
public static class TreeTraining
{
    private sealed class Row
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = [];

        public float Weight { get; set; }
    }

    private sealed class Prediction
    {
        public float Score { get; set; }

        public float Probability { get; set; }
    }

    /// <summary>Means of the known values of each feature over the examples (used for unknowns).</summary>
    public static double[] Means(IReadOnlyList<TrainingExample> examples, int featureCount) =>
        Enumerable.Range(0, featureCount).Select(j =>
        {
            var known = examples.Where(e => e.Values[j] is not null).Select(e => e.Values[j]!.Value).ToList();
            return known.Count == 0 ? 0 : known.Average();
        }).ToArray();

    private static IDataView Load(MLContext ml, IReadOnlyList<TrainingExample> examples, double[] means)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, means.Length);
        var rows = examples.Select(e => new Row
        {
            Label = e.Label,
            Weight = (float)e.Weight,
            Features = e.Values.Select((v, j) => (float)(v ?? means[j])).ToArray(),
        }).ToList();
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>
    /// Fits a GAM and returns its shape functions in log-odds (the GAM's raw output passed through its Platt calibration):
    /// the intercept and, per feature that has bins, the bin upper bounds and effects. Features with an expected direction
    /// (<see cref="ModelFeatureSets.ExpectedSigns"/>) are made monotone in that direction (pool-adjacent-violators over the bins).
    /// </summary>
    public static (double Intercept, IReadOnlyList<ModelFeature> Features) FitGam(
        IReadOnlyList<string> featureIds, IReadOnlyList<TrainingExample> examples, int seed, int iterations = 1500, double learningRate = 0.02)
    {
        // The GAM drops features that are constant in training, and its per-feature accessors then index shape functions, not
        // input features: keep only features with two or more distinct training values, so that the two coincide.
        var varying = Enumerable.Range(0, featureIds.Count)
            .Where(j => examples.Select(e => e.Values[j]).Where(v => v is not null).Distinct().Count() > 1).ToList();
        if (varying.Count < featureIds.Count)
        {
            featureIds = varying.Select(j => featureIds[j]).ToList();
            examples = examples.Select(e => e with { Values = varying.Select(j => e.Values[j]).ToArray() }).ToList();
        }
        var ml = new MLContext(seed);
        var means = Means(examples, featureIds.Count);
        // The GAM trainer learns nothing when given an example-weight column (Microsoft.ML 5.0.1: one bin per feature, zero effects),
        // so the weights are realised by repeating each example round(weight / smallest weight) times instead.
        var smallest = examples.Min(e => e.Weight);
        var repeated = examples.SelectMany(e => Enumerable.Repeat(e with { Weight = 1 }, Math.Max(1, (int)Math.Round(e.Weight / smallest)))).ToList();
        var data = Load(ml, repeated, means);
        var trainer = ml.BinaryClassification.Trainers.Gam(new GamBinaryTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            NumberOfIterations = iterations,
            LearningRate = learningRate,
            MaximumBinCountPerFeature = 64,
            NumberOfThreads = 1,
        });
        var model = trainer.Fit(data).Model;
        var gam = model.SubModel;
        var platt = (PlattCalibrator)model.Calibrator;
        // Calibrated probability = 1 / (1 + exp(Slope * raw + Offset)), so log-odds = -Slope * raw - Offset.
        var scale = -platt.Slope;
        var intercept = scale * gam.Bias - platt.Offset;
        // GetBinUpperBounds(int) checks its argument against the number of shape functions although it takes an input-feature
        // index (Microsoft.ML 5.0.1), so the input-feature-to-shape-function map is read directly.
        var map = typeof(GamModelParametersBase).GetField("_inputFeatureToShapeFunctionMap", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)?.GetValue(gam) as IReadOnlyDictionary<int, int>
            ?? throw new InvalidOperationException("this Microsoft.ML version does not expose the GAM's feature map; the shape functions cannot be matched to feature ids");
        var allBounds = ShapeTable(gam, "GetBinUpperBounds");
        var allEffects = ShapeTable(gam, "GetBinEffects");
        var features = new List<ModelFeature>();
        for (var j = 0; j < featureIds.Count; j++)
        {
            if (!map.TryGetValue(j, out var shape) || allBounds[shape].Length == 0)
            {
                continue;
            }
            var bounds = allBounds[shape];
            var effects = allEffects[shape];
            var scaled = effects.Select(e => e * scale).ToArray();
            if (ModelFeatureSets.ExpectedSigns.TryGetValue(featureIds[j], out var sign))
            {
                scaled = Monotone(scaled, sign);
            }
            features.Add(new ModelFeature
            {
                Id = featureIds[j],
                Mean = means[j],
                BinUpperBounds = bounds.Select(b => double.IsPositiveInfinity(b) ? double.MaxValue : b).ToList(),
                BinEffects = scaled.Select(v => Math.Round(v, 10)).ToList(),
            });
        }
        return (Math.Round(intercept, 10), features);
    }

    /// <summary>The GAM's per-shape-function table (bin upper bounds or bin effects), read through its non-public parameterless accessor.</summary>
    private static List<double[]> ShapeTable(GamModelParametersBase gam, string method)
    {
        var accessor = typeof(GamModelParametersBase).GetMethod(method, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance, Type.EmptyTypes)
            ?? throw new InvalidOperationException($"this Microsoft.ML version has no GamModelParametersBase.{method}()");
        return accessor.Invoke(gam, null) is System.Collections.IEnumerable rows
            ? rows.Cast<IEnumerable<double>>().Select(r => r.ToArray()).ToList()
            : throw new InvalidOperationException($"GamModelParametersBase.{method}() returned nothing");
    }

    /// <summary>Least-squares monotone fit of a sequence (pool adjacent violators, equal weights): non-decreasing for +1, non-increasing for -1.</summary>
    public static double[] Monotone(IReadOnlyList<double> values, int direction)
    {
        var v = values.Select(x => x * direction).ToList();
        var blocks = new List<(double Sum, int Count)>();
        foreach (var x in v)
        {
            blocks.Add((x, 1));
            while (blocks.Count > 1 && blocks[^2].Sum / blocks[^2].Count > blocks[^1].Sum / blocks[^1].Count)
            {
                var merged = (blocks[^2].Sum + blocks[^1].Sum, blocks[^2].Count + blocks[^1].Count);
                blocks.RemoveAt(blocks.Count - 1);
                blocks[^1] = merged;
            }
        }
        return blocks.SelectMany(b => Enumerable.Repeat(b.Sum / b.Count * direction, b.Count)).ToArray();
    }

    /// <summary>
    /// Fits FastTree or LightGBM (trees with interactions) and returns a scorer over records, for comparison only: these models are
    /// not exported to a model file, since their effects cannot be bounded per feature.
    /// </summary>
    public static IPackageScorer FitEnsemble(
        ModelAlgorithm algorithm, IReadOnlyList<string> featureIds, IReadOnlyList<TrainingExample> examples, PackageFeatureExtractor extractor, int seed, string label)
    {
        var ml = new MLContext(seed);
        var means = Means(examples, featureIds.Count);
        var data = Load(ml, examples, means);
        IEstimator<ITransformer> trainer = algorithm switch
        {
            ModelAlgorithm.FastTree => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = nameof(Row.Label),
                FeatureColumnName = nameof(Row.Features),
                ExampleWeightColumnName = nameof(Row.Weight),
                NumberOfTrees = 200,
                NumberOfLeaves = 16,
                MinimumExampleCountPerLeaf = 10,
                LearningRate = 0.1,
                NumberOfThreads = 1,
            }),
            ModelAlgorithm.LightGbm => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = nameof(Row.Label),
                FeatureColumnName = nameof(Row.Features),
                ExampleWeightColumnName = nameof(Row.Weight),
                NumberOfIterations = 200,
                NumberOfLeaves = 16,
                MinimumExampleCountPerLeaf = 10,
                LearningRate = 0.1,
                NumberOfThreads = 1,
                Seed = seed,
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), "only FastTree and LightGBM are ensembles"),
        };
        var model = trainer.Fit(data);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, means.Length);
        var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(model, inputSchemaDefinition: schema);
        return new EnsembleScorer(featureIds, means, extractor, engine, label);
    }

    private sealed class EnsembleScorer(
        IReadOnlyList<string> featureIds, double[] means, PackageFeatureExtractor extractor, PredictionEngine<Row, Prediction> engine, string label) : IPackageScorer
    {
        public PackageScore Score(PackageMetadataRecord record)
        {
            var vector = extractor.Extract(record);
            var row = new Row { Features = featureIds.Select((id, j) => (float)(vector[id].Value ?? means[j])).ToArray() };
            var p = engine.Predict(row).Probability;
            return new PackageScore(record.Name, p, 0.5, p >= 0.5 ? ScoreDecision.Approve : ScoreDecision.Reject, label, [], []);
        }
    }
}
