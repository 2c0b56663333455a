using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SafeHaven.WhitelistModel.Evaluation;
using SafeHaven.WhitelistModel.Extractors;
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
        var seed = new Option<int>("--seed") { Description = "Seed of the split and of the long-tail sample.", DefaultValueFactory = _ => 42 };
        var longTail = new Option<int>("--long-tail") { Description = "How many long-tail snapshot packages to sample as negatives.", DefaultValueFactory = _ => 20000 };
        var l2 = new Option<double>("--l2") { Description = "L2 penalty on the standardised weights.", DefaultValueFactory = _ => 1.0 };
        var popular = new Option<int>("--popular-names") { Description = "How many of the most downloaded names the model keeps.", DefaultValueFactory = _ => 5000 };
        var target = new Option<double>("--target-rejection") { Description = "Share of validation malicious names the default threshold must reject.", DefaultValueFactory = _ => 0.995 };
        var version = new Option<string>("--model-version") { Description = "Version label written into the model.", DefaultValueFactory = _ => new TrainingSettings().ModelVersion };
        var newUploads = new Option<bool>("--malicious-as-new-uploads") { Description = "Give each malicious name a first release at its report date (zero days on the index), which the reports do not say; for the age experiment only." };
        var features = new Option<string?>("--features") { Description = "Comma-separated feature ids to train on (default: the features computable the same way for every class)." };
        var command = new Command("train", "Train the PyPI whitelist model on the training split and pick its threshold on the validation split.");
        foreach (var o in new Option[] { dataDir, output, seed, longTail, l2, popular, target, version, features, newUploads })
        {
            command.Options.Add(o);
        }
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, stderr) =>
        {
            var data = LoadData(parseResult.GetValue(dataDir), stderr);
            if (data is null)
            {
                return BadInput;
            }
            var settings = new TrainingSettings
            {
                Split = new SplitSettings(parseResult.GetValue(seed), parseResult.GetValue(longTail), MaliciousAsNewUploads: parseResult.GetValue(newUploads)),
                L2 = parseResult.GetValue(l2),
                PopularNames = parseResult.GetValue(popular),
                TargetMaliciousRejection = parseResult.GetValue(target),
                ModelVersion = parseResult.GetValue(version)!,
                Features = ParseFeatures(parseResult.GetValue(features)),
            };
            var examples = EvaluationDataset.Build(data.Snapshot, data.Reference, data.Core, data.Malicious, settings.Split);
            var result = ModelTraining.Train(examples, ModelTraining.PopularNamesByRank(data.Snapshot), settings);
            var path = parseResult.GetValue(output)!;
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }
            await File.WriteAllTextAsync(path, result.Model.ToJson() + "\n", ct).ConfigureAwait(false);
            var scorer = new WhitelistScorer(result.Model);
            var figures = ModelEvaluation.Evaluate(scorer, examples).Where(f => f.Split != SplitPart.Test).ToList();
            await stdout.WriteLineAsync($"wrote {path}").ConfigureAwait(false);
            await stdout.WriteAsync(ModelEvaluation.ToMarkdown(figures, scorer)).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

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
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, stderr) =>
        {
            var scorer = LoadScorer(parseResult.GetValue(model), Ecosystem.PyPI, null);
            var data = LoadData(parseResult.GetValue(dataDir), stderr);
            if (data is null)
            {
                return BadInput;
            }
            var split = ModelTraining.SplitSettingsOf(scorer.Model);
            var examples = EvaluationDataset.Build(data.Snapshot, data.Reference, data.Core, data.Malicious, split);
            var figures = ModelEvaluation.Evaluate(scorer, examples);
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
        var command = new Command("score", "Score packages from a TSV; writes name, score, decision and reasons as TSV to standard output, in input order.");
        foreach (var o in new Option[] { ecosystem, input, model, threshold, asOf })
        {
            command.Options.Add(o);
        }
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, _) =>
        {
            var eco = ParseEcosystem(parseResult.GetValue(ecosystem));
            var scorer = LoadScorer(parseResult.GetValue(model), eco, parseResult.GetValue(threshold));
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
        var command = new Command("explain", "Explain a package's score: the score, the threshold and every feature that pushed it up or down, in words.");
        foreach (var o in new Option[] { ecosystem, input, name, version, versions, firstRelease, lastRelease, rank, summary, hasSource, json, model, threshold, asOf })
        {
            command.Options.Add(o);
        }
        command.SetAction((parseResult, ct) => Run(parseResult, async (stdout, stderr) =>
        {
            var eco = ParseEcosystem(parseResult.GetValue(ecosystem));
            var scorer = LoadScorer(parseResult.GetValue(model), eco, parseResult.GetValue(threshold));
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

    private sealed record Data(string Directory, IReadOnlyList<SnapshotRow> Snapshot, IReadOnlyList<string> Reference, IReadOnlyList<string> Core, IReadOnlyList<MaliciousRow> Malicious);

    private static Data? LoadData(string? dataDir, TextWriter stderr)
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
        return new Data(
            dir,
            ReferenceData.ReadSnapshot(Path.Combine(dir, ReferenceData.SnapshotFile)),
            ReferenceData.ReadAllowlist(Path.Combine(dir, ReferenceData.ReferenceAllowlistFile)),
            ReferenceData.ReadAllowlist(Path.Combine(dir, ReferenceData.CoreAllowlistFile)),
            ReferenceData.ReadMalicious(Path.Combine(dir, ReferenceData.MaliciousFile)));
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

    private static WhitelistScorer LoadScorer(string? modelPath, Ecosystem ecosystem, double? threshold)
    {
        if (threshold is < 0 or > 1)
        {
            throw new UsageException($"--threshold {threshold} is outside 0..1.");
        }
        var path = modelPath ?? WhitelistScorer.ShippedModelPath(ecosystem);
        if (modelPath is null && !File.Exists(path))
        {
            throw new UsageException(ecosystem == Ecosystem.PyPI
                ? $"the shipped model is missing: {path}"
                : $"no whitelist model for ecosystem '{ecosystem.ToId()}' yet (only pypi has a trained model); pass --model PATH.");
        }
        var scorer = WhitelistScorer.Load(path, threshold);
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
