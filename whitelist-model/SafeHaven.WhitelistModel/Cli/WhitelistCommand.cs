using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SafeHaven.WhitelistModel.Evaluation;
using SafeHaven.WhitelistModel.Extractors;
using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.WhitelistModel.Cli;

/// <summary>
/// <c>safehaven whitelist train | evaluate | score | explain</c>: trains the whitelist model on the shared reference data,
/// evaluates it on the held-out split, and scores or explains packages read from TSV.
/// </summary>
public static class WhitelistCommand
{
    /// <summary>Exit code for bad input (missing column, unreadable file, unknown ecosystem).</summary>
    public const int BadInput = 2;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static Command Create()
    {
        var command = new Command("whitelist", "Score packages for Tier 3 allowlists from their metadata (train, evaluate, score, explain).");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateEvaluate());
        command.Subcommands.Add(CreateScore());
        command.Subcommands.Add(CreateExplain());
        return command;
    }

    private static Option<string?> DataDirOption() => new("--data-dir")
    {
        Description = "Shared reference data folder (default: the 'shared/data' folder found beside a parent of the current directory).",
    };

    private static Option<string?> ModelOption() => new("--model")
    {
        Description = "Model file (default: the versioned model shipped in models/ next to the binaries).",
    };

    private static Command CreateTrain()
    {
        var dataDir = DataDirOption();
        var output = new Option<string>("--output") { Description = "Where to write the trained model file (JSON).", Required = true };
        var preset = new Option<string>("--preset") { Description = "v1: the pypi-v1 settings (report-date split, no history); v2: honest-time split, popularity history, bounded shape effects.", DefaultValueFactory = _ => "v1" };
        var algorithm = new Option<string?>("--algorithm") { Description = "logistic, gam, or best (train both, keep the better on validation); default: the preset's (v1: logistic, v2: best)." };
        var compare = new Option<bool>("--compare") { Description = "Also train FastTree and LightGBM on the same features and split and print every family's validation and test figures." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the split, the long-tail sample and the tree trainers (default 42)." };
        var longTail = new Option<int?>("--long-tail") { Description = "How many long-tail snapshot packages to sample as negatives (default 20000)." };
        var l2 = new Option<double?>("--l2") { Description = "L2 penalty on the standardised weights (default 1)." };
        var popular = new Option<int?>("--popular-names") { Description = "How many of the most downloaded names the model keeps (default 5000)." };
        var target = new Option<double?>("--target-rejection") { Description = "Share of validation malicious names the default threshold must reject (v1: 0.995, v2: 0.999)." };
        var version = new Option<string?>("--model-version") { Description = "Version label written into the model (default: pypi-v1 or pypi-v2)." };
        var newUploads = new Option<bool>("--malicious-as-new-uploads") { Description = "Give each malicious name a first release at its report date (zero days on the index), which the reports do not say; for the age experiment only." };
        var features = new Option<string?>("--features") { Description = "Comma-separated feature ids to train on (default: the preset's)." };
        var history = HistoryOption();
        var command = new Command("train", "Train the PyPI whitelist model on the training split and pick its threshold on the validation split.");
        foreach (var o in new Option[] { dataDir, output, preset, algorithm, compare, seed, longTail, l2, popular, target, version, features, newUploads, history })
        {
            command.Options.Add(o);
        }
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, stderr) =>
        {
            var defaults = parseResult.GetValue(preset) switch
            {
                "v1" => new TrainingSettings(),
                "v2" => TrainingSettings.V2,
                var other => throw new UsageException($"unknown --preset '{other}' (expected v1 or v2)."),
            };
            var algorithmName = parseResult.GetValue(algorithm) ?? (defaults.Algorithm == ModelAlgorithm.Gam ? "best" : "logistic");
            ModelAlgorithm? chosen = algorithmName switch
            {
                "logistic" => ModelAlgorithm.Logistic,
                "gam" => ModelAlgorithm.Gam,
                "best" => null,
                _ => throw new UsageException($"unknown --algorithm '{algorithmName}' (expected logistic, gam or best)."),
            };
            var settings = defaults with
            {
                Split = defaults.Split with
                {
                    Seed = parseResult.GetValue(seed) ?? defaults.Split.Seed,
                    LongTailSample = parseResult.GetValue(longTail) ?? defaults.Split.LongTailSample,
                    MaliciousAsNewUploads = parseResult.GetValue(newUploads),
                },
                L2 = parseResult.GetValue(l2) ?? defaults.L2,
                PopularNames = parseResult.GetValue(popular) ?? defaults.PopularNames,
                TargetMaliciousRejection = parseResult.GetValue(target) ?? defaults.TargetMaliciousRejection,
                ModelVersion = parseResult.GetValue(version) ?? defaults.ModelVersion,
                Features = parseResult.GetValue(features) is { } f ? ParseFeatures(f) : defaults.Features,
                Algorithm = chosen ?? ModelAlgorithm.Gam,
            };
            var needsHistory = settings.Features.Any(id => Features.FeatureCatalog.PopularityHistoryFeatures.Any(h => h.Id == id));
            var data = LoadData(parseResult.GetValue(dataDir), stderr, settings.Split.HonestTime, needsHistory ? parseResult.GetValue(history) ?? string.Empty : null);
            if (data is null)
            {
                return BadInput;
            }
            var examples = EvaluationDataset.Build(data.Snapshot, data.Reference, data.Core, data.Malicious, settings.Split, data.BuildTimes);
            var popularNames = ModelTraining.PopularNamesByRank(data.Snapshot);
            TrainingResult result;
            string? comparison = null;
            if (chosen is null || parseResult.GetValue(compare))
            {
                var (rows, best) = ModelComparison.Compare(examples, popularNames, settings, data.History, parseResult.GetValue(compare));
                comparison = ModelComparison.ToMarkdown(rows);
                result = chosen is null ? best : ModelTraining.Train(examples, popularNames, settings, data.History);
            }
            else
            {
                result = ModelTraining.Train(examples, popularNames, settings, data.History);
            }
            var path = parseResult.GetValue(output)!;
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }
            await File.WriteAllTextAsync(path, result.Model.ToJson() + "\n", ct).ConfigureAwait(false);
            var scorer = new WhitelistScorer(result.Model, history: data.History);
            var figures = ModelEvaluation.Evaluate(scorer, examples, data.History).Where(f => f.Split != SplitPart.Test).ToList();
            await stdout.WriteLineAsync($"wrote {path} ({result.Model.Kind})").ConfigureAwait(false);
            if (comparison is not null)
            {
                await stdout.WriteLineAsync("Model families on the same features and split (threshold of each chosen on validation):").ConfigureAwait(false);
                await stdout.WriteAsync(comparison).ConfigureAwait(false);
                await stdout.WriteLineAsync().ConfigureAwait(false);
            }
            await stdout.WriteAsync(ModelEvaluation.ToMarkdown(figures, scorer)).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static Option<string?> HistoryOption() => new("--popularity-history")
    {
        Description = "Monthly top lists of downloads (columns month, rank, name, download_count; gzip or plain). Enables the history features and the pypi-v2 model. For train and evaluate, default: popularity/pypi-top-monthly.tsv.gz in the data folder.",
    };

    private static Command CreateEvaluate()
    {
        var dataDir = DataDirOption();
        var model = ModelOption();
        var reportJson = new Option<string?>("--report-json") { Description = "Also write the figures as JSON to this file." };
        var scoresTsv = new Option<string?>("--scores-tsv") { Description = "Also write every example's split, source, name, score and decision as TSV to this file." };
        var command = new Command("evaluate", "Rebuild the model's split from the reference data and report ROC-AUC, PR-AUC and decision rates per split (test = held out).");
        command.Options.Add(dataDir);
        command.Options.Add(model);
        command.Options.Add(reportJson);
        command.Options.Add(scoresTsv);
        var history = HistoryOption();
        command.Options.Add(history);
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, stderr) =>
        {
            var modelPath = parseResult.GetValue(model) ?? WhitelistScorer.ShippedModelPath(Ecosystem.PyPI);
            var modelFile = WhitelistModelFile.FromJson(File.Exists(modelPath) ? await File.ReadAllTextAsync(modelPath, ct).ConfigureAwait(false) : throw new UsageException($"model file not found: {modelPath}"), modelPath);
            var split = ModelTraining.SplitSettingsOf(modelFile);
            var data = LoadData(parseResult.GetValue(dataDir), stderr, split.HonestTime, modelFile.NeedsPopularityHistory || parseResult.GetValue(history) is not null ? parseResult.GetValue(history) ?? string.Empty : null);
            if (data is null)
            {
                return BadInput;
            }
            var scorer = new WhitelistScorer(modelFile, history: modelFile.NeedsPopularityHistory ? data.History : null);
            var examples = EvaluationDataset.Build(data.Snapshot, data.Reference, data.Core, data.Malicious, split, data.BuildTimes);
            var figures = ModelEvaluation.Evaluate(scorer, examples, data.History);
            await stdout.WriteLineAsync($"data: {data.Directory}; split seed {split.Seed}, long-tail sample {split.LongTailSample}").ConfigureAwait(false);
            await stdout.WriteAsync(ModelEvaluation.ToMarkdown(figures, scorer)).ConfigureAwait(false);
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.WriteLineAsync("Largest malicious campaigns (each kept whole on one side of the split):").ConfigureAwait(false);
            await stdout.WriteAsync(ModelEvaluation.LargestCampaigns(examples)).ConfigureAwait(false);
            if (parseResult.GetValue(reportJson) is { } jsonPath)
            {
                await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(new { model = scorer.Model.ModelVersion, threshold = scorer.Threshold, figures }, Json), ct).ConfigureAwait(false);
            }
            if (parseResult.GetValue(scoresTsv) is { } scoresPath)
            {
                var sb = new StringBuilder("split\tsource\tname\tscore\tdecision\treasons\n");
                foreach (var e in examples)
                {
                    var s = scorer.Score(e.Record);
                    sb.Append(CultureInfo.InvariantCulture, $"{e.Split}\t{e.Source}\t{TsvTable.Cell(e.Record.Name)}\t{s.Score:0.000000}\t{s.DecisionText}\t{TsvTable.Cell(string.Join("; ", s.TopReasons()))}\n");
                }
                await File.WriteAllTextAsync(scoresPath, sb.ToString(), ct).ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }

    private static Option<string> EcosystemOption() => new("--ecosystem") { Description = "Ecosystem of the packages: pypi (cran, nuget, conda, apt have no trained model yet).", DefaultValueFactory = _ => "pypi" };

    private static Option<double?> ThresholdOption() => new("--threshold") { Description = "Approval threshold in 0..1 (default: the model's, chosen on validation data)." };

    private static Option<string?> AsOfOption() => new("--as-of") { Description = "Observation date for date features (ISO date; default: today, UTC)." };

    private static Command CreateScore()
    {
        var ecosystem = EcosystemOption();
        var input = new Option<string>("--input") { Description = "TSV with a header row: name (required), version, versions, first_release, last_release, release_count, download_rank, has_source_repo, summary; '-' reads standard input.", Required = true };
        var model = ModelOption();
        var threshold = ThresholdOption();
        var asOf = AsOfOption();
        var history = HistoryOption();
        var command = new Command("score", "Score packages from a TSV; writes name, score, decision and reasons as TSV to standard output, in input order.");
        foreach (var o in new Option[] { ecosystem, input, model, threshold, asOf, history })
        {
            command.Options.Add(o);
        }
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, _) =>
        {
            var eco = ParseEcosystem(parseResult.GetValue(ecosystem));
            var scorer = LoadScorer(parseResult.GetValue(model), eco, parseResult.GetValue(threshold), parseResult.GetValue(history));
            var records = ReadRecords(parseResult.GetValue(input)!, eco, ParseAsOf(parseResult.GetValue(asOf)));
            var sb = new StringBuilder("name\tscore\tdecision\treasons\n");
            foreach (var record in records)
            {
                ct.ThrowIfCancellationRequested();
                var s = scorer.Score(record);
                sb.Append(TsvTable.Cell(record.Name)).Append('\t')
                  .Append(s.Score.ToString("0.000000", CultureInfo.InvariantCulture)).Append('\t')
                  .Append(s.DecisionText).Append('\t')
                  .Append(TsvTable.Cell(string.Join("; ", s.TopReasons()))).Append('\n');
            }
            await stdout.WriteAsync(sb.ToString()).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static Command CreateExplain()
    {
        var ecosystem = EcosystemOption();
        var input = new Option<string?>("--input") { Description = "TSV as for 'score' ('-' reads standard input); or describe one package with --name and the options below." };
        var name = new Option<string?>("--name") { Description = "Package name." };
        var version = new Option<string?>("--version") { Description = "Latest version." };
        var versions = new Option<string?>("--versions") { Description = "Comma-separated versions." };
        var firstRelease = new Option<string?>("--first-release") { Description = "First release date (ISO date or YYYY-MM)." };
        var lastRelease = new Option<string?>("--last-release") { Description = "Latest release date (ISO date or YYYY-MM)." };
        var rank = new Option<string?>("--download-rank") { Description = "Download rank; leave out when not among the most downloaded." };
        var summary = new Option<string?>("--summary") { Description = "Summary." };
        var hasSource = new Option<string?>("--has-source-repo") { Description = "true or false." };
        var json = new Option<bool>("--json") { Description = "Write JSON instead of text." };
        var model = ModelOption();
        var threshold = ThresholdOption();
        var asOf = AsOfOption();
        var history = HistoryOption();
        var command = new Command("explain", "Explain a package's score: the score, the threshold and every feature that pushed it up or down, in words.");
        foreach (var o in new Option[] { ecosystem, input, name, version, versions, firstRelease, lastRelease, rank, summary, hasSource, json, model, threshold, asOf, history })
        {
            command.Options.Add(o);
        }
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, stderr) =>
        {
            var eco = ParseEcosystem(parseResult.GetValue(ecosystem));
            var scorer = LoadScorer(parseResult.GetValue(model), eco, parseResult.GetValue(threshold), parseResult.GetValue(history));
            var observed = ParseAsOf(parseResult.GetValue(asOf));
            IReadOnlyList<PackageMetadataRecord> records;
            if (parseResult.GetValue(input) is { } path)
            {
                records = ReadRecords(path, eco, observed);
            }
            else if (parseResult.GetValue(name) is { } packageName)
            {
                var columns = new List<(string Column, string? Value)>
                {
                    ("name", packageName), ("version", parseResult.GetValue(version)), ("versions", parseResult.GetValue(versions)),
                    ("first_release", parseResult.GetValue(firstRelease)), ("last_release", parseResult.GetValue(lastRelease)),
                    ("download_rank", parseResult.GetValue(rank)), ("has_source_repo", parseResult.GetValue(hasSource)),
                };
                if (parseResult.GetValue(summary) is { } summaryText)
                {
                    columns.Add(("summary", summaryText));
                }
                var text = string.Join('\t', columns.Select(c => c.Column)) + "\n" + string.Join('\t', columns.Select(c => TsvTable.Cell(c.Value))) + "\n";
                records = TsvRowExtractor.ExtractAll(TsvTable.Parse(new StringReader(text)), eco, observed);
            }
            else
            {
                await stderr.WriteLineAsync("error: explain needs --input FILE or --name NAME.").ConfigureAwait(false);
                return BadInput;
            }
            var scores = records.Select(scorer.Score).ToList();
            if (parseResult.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(scores, Json)).ConfigureAwait(false);
            }
            else
            {
                foreach (var s in scores)
                {
                    ct.ThrowIfCancellationRequested();
                    await stdout.WriteAsync(Explain(s)).ConfigureAwait(false);
                }
            }
            return 0;
        }));
        return command;
    }

    /// <summary>A package's explanation in words: score, threshold, decision, then every feature's push, strongest first.</summary>
    public static string Explain(PackageScore s)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"{s.Name}: score {s.Score:0.0000}, threshold {s.Threshold:0.0000}: {s.DecisionText} (model {s.ModelVersion})");
        var up = s.Contributions.Where(c => c.Contribution >= 0.05).ToList();
        var down = s.Contributions.Where(c => c.Contribution <= -0.05).ToList();
        var none = s.Contributions.Where(c => Math.Abs(c.Contribution) < 0.05).ToList();
        void Section(string title, IReadOnlyList<FeatureContribution> items)
        {
            if (items.Count == 0)
            {
                return;
            }
            sb.AppendLine(inv, $"  {title}:");
            foreach (var c in items)
            {
                sb.AppendLine(inv, $"    {c.Text}");
            }
        }
        Section("pushed up", up);
        Section("pushed down", down);
        Section("little or no effect", none);
        Section("computed but not used by this model", s.NotUsed);
        return sb.ToString();
    }

    private sealed record Data(
        string Directory, IReadOnlyList<SnapshotRow> Snapshot, IReadOnlyList<string> Reference, IReadOnlyList<string> Core, IReadOnlyList<MaliciousRow> Malicious,
        IReadOnlyList<BuildTimeRow>? BuildTimes, PopularityHistory? History);

    /// <param name="dataDir">The shared data folder, or null to find it.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="buildTimes">Also read the malicious build-time table (honest-time split).</param>
    /// <param name="historyPath">Null: no popularity history; empty: the data folder's; else that file.</param>
    private static Data? LoadData(string? dataDir, TextWriter stderr, bool buildTimes = false, string? historyPath = null)
    {
        var dir = dataDir ?? ReferenceData.FindDataDirectory(Directory.GetCurrentDirectory());
        if (dir is null)
        {
            stderr.WriteLine($"error: no shared data folder found above {Directory.GetCurrentDirectory()} (looked for shared/data/{ReferenceData.SnapshotFile}); pass --data-dir.");
            return null;
        }
        foreach (var file in new[] { ReferenceData.SnapshotFile, ReferenceData.ReferenceAllowlistFile, ReferenceData.CoreAllowlistFile, ReferenceData.MaliciousFile })
        {
            if (!File.Exists(Path.Combine(dir, file)))
            {
                stderr.WriteLine($"error: data file not found: {Path.Combine(dir, file)}");
                return null;
            }
        }
        var builds = Path.Combine(dir, ReferenceData.BuildTimesFile);
        if (buildTimes && !File.Exists(builds))
        {
            stderr.WriteLine($"error: data file not found: {builds}");
            return null;
        }
        var history = historyPath is null ? null : historyPath.Length == 0 ? Path.Combine(dir, ReferenceData.PopularityHistoryFile) : historyPath;
        if (history is not null && !File.Exists(history))
        {
            stderr.WriteLine($"error: popularity history file not found: {history}");
            return null;
        }
        return new Data(
            dir,
            ReferenceData.ReadSnapshot(Path.Combine(dir, ReferenceData.SnapshotFile)),
            ReferenceData.ReadAllowlist(Path.Combine(dir, ReferenceData.ReferenceAllowlistFile)),
            ReferenceData.ReadAllowlist(Path.Combine(dir, ReferenceData.CoreAllowlistFile)),
            ReferenceData.ReadMalicious(Path.Combine(dir, ReferenceData.MaliciousFile)),
            buildTimes ? ReferenceData.ReadBuildTimes(builds) : null,
            history is null ? null : PopularityHistory.Load(history));
    }

    private static IReadOnlyList<string> ParseFeatures(string? value)
    {
        if (value is null)
        {
            return ModelFeatureSets.SameSourceFeatures;
        }
        var ids = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var unknown = ids.Where(id => Features.FeatureCatalog.Find(id) is null).ToList();
        if (unknown.Count > 0 || ids.Count == 0)
        {
            throw new UsageException($"unknown feature id(s): {string.Join(", ", unknown)} (known: {string.Join(", ", Features.FeatureCatalog.All.Select(f => f.Id))}).");
        }
        return ids;
    }

    private static Ecosystem ParseEcosystem(string? value) =>
        EcosystemNames.TryParse(value) ?? throw new UsageException($"unknown ecosystem '{value}' (expected one of: {EcosystemNames.AllIds}).");

    private static DateTimeOffset ParseAsOf(string? value) =>
        value is null ? new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero) : TsvRowExtractor.ParseDate(value, 0, "--as-of") ?? throw new UsageException("--as-of is blank");

    /// <summary>
    /// The model to score with: --model, else the shipped one (pypi-v2 with a popularity history, pypi-v1 without, exactly as before).
    /// A model built on the history refuses to score without it.
    /// </summary>
    private static WhitelistScorer LoadScorer(string? modelPath, Ecosystem ecosystem, double? threshold, string? historyPath = null)
    {
        if (threshold is < 0 or > 1)
        {
            throw new UsageException($"--threshold {threshold} is outside 0..1.");
        }
        if (historyPath is not null && !File.Exists(historyPath))
        {
            throw new UsageException($"popularity history file not found: {historyPath}");
        }
        var history = historyPath is null ? null : PopularityHistory.Load(historyPath);
        var path = modelPath ?? WhitelistScorer.ShippedModelPath(ecosystem, history is not null);
        if (modelPath is null && !File.Exists(path))
        {
            throw new UsageException(ecosystem == Ecosystem.PyPI
                ? $"the shipped model is missing: {path}"
                : $"no whitelist model for ecosystem '{ecosystem.ToId()}' yet (only pypi has a trained model); pass --model PATH.");
        }
        var model = WhitelistModelFile.FromJson(File.Exists(path) ? File.ReadAllText(path) : throw new UsageException($"model file not found: {path}"), path);
        if (model.NeedsPopularityHistory && history is null)
        {
            throw new UsageException($"model {model.ModelVersion} ({path}) is built on the monthly popularity history: pass --popularity-history FILE.");
        }
        var scorer = new WhitelistScorer(model, threshold, model.NeedsPopularityHistory ? history : null);
        if (!string.Equals(scorer.Model.Ecosystem, ecosystem.ToId(), StringComparison.Ordinal))
        {
            throw new UsageException($"model {path} is for ecosystem '{scorer.Model.Ecosystem}', not '{ecosystem.ToId()}'.");
        }
        return scorer;
    }

    private static IReadOnlyList<PackageMetadataRecord> ReadRecords(string path, Ecosystem ecosystem, DateTimeOffset observedAt)
    {
        TsvTable table;
        if (path == "-")
        {
            table = TsvTable.Parse(Console.In);
        }
        else
        {
            if (!File.Exists(path))
            {
                throw new UsageException($"input file not found: {path}");
            }
            using var reader = new StreamReader(path);
            table = TsvTable.Parse(reader);
        }
        try
        {
            return TsvRowExtractor.ExtractAll(table, ecosystem, observedAt);
        }
        catch (FormatException ex)
        {
            throw new UsageException($"{path}: {ex.Message}");
        }
    }

    private static async Task<int> Run(ParseResult parseResult, Func<TextWriter, TextWriter, Task<int>> body)
    {
        var stdout = parseResult.InvocationConfiguration.Output;
        var stderr = parseResult.InvocationConfiguration.Error;
        try
        {
            return await body(stdout, stderr).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is UsageException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return BadInput;
        }
    }

    private sealed class UsageException(string message) : Exception(message);
}
