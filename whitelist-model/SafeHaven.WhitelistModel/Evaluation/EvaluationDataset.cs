using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>Which part of the data an example belongs to.</summary>
public enum SplitPart
{
    Train,
    Validation,
    Test,
}

/// <summary>Where an example comes from: the reference allowlist (positive), the malicious list or the snapshot's long tail (negatives).</summary>
public enum ExampleSource
{
    Allowlisted,
    Malicious,
    LongTail,
}

/// <summary>
/// The real lifetime of a malicious name: its upload (the earliest believable build time, else the report date), its latest
/// build time when known, and its report.
/// </summary>
public sealed record MaliciousLifetime(DateTimeOffset Upload, bool UploadFromBuild, DateTimeOffset? LastBuild, DateTimeOffset Reported, MaliciousRow Row, BuildTimeRow? Build);

/// <summary>One labelled example: its record, source, split, campaign (malicious only) and whether it is in the core allowlist.</summary>
public sealed record LabelledExample(PackageMetadataRecord Record, ExampleSource Source, SplitPart Split, int Campaign, bool Core)
{
    public bool Label => Source == ExampleSource.Allowlisted;

    /// <summary>Malicious names in the honest-time split: the lifetime the record can be re-observed along.</summary>
    public MaliciousLifetime? Lifetime { get; init; }
}

/// <summary>
/// Settings of the split; recorded in the model file so that <c>evaluate</c> rebuilds exactly the same examples.
/// <paramref name="MaliciousAsNewUploads"/>: give each malicious name a first release at its report date (a new upload seen at
/// sync time, zero days old), which the report itself does not say; only for the age experiment in EVALUATION.md.
/// </summary>
/// <paramref name="HonestTime"/>: observe each malicious name at its upload time (the believable build time, else the report date),
/// group campaigns by name and by upload burst, and split them by upload time (<see cref="EvaluationDataset.Build"/> needs the
/// build-time table); off for <c>pypi-v1</c>, which was split by report date.
public sealed record SplitSettings(int Seed = 42, int LongTailSample = 20000, double TrainShare = 0.6, double ValidationShare = 0.2, bool MaliciousAsNewUploads = false, bool HonestTime = false);

/// <summary>
/// Builds the labelled examples and their split:
/// malicious names are grouped into campaigns (<see cref="CampaignGrouper"/>) and split by time, campaign by campaign in the
/// order of the campaign's first report (oldest 60 % train, next 20 % validation, newest 20 % test);
/// long-tail snapshot rows (not ranked, not allowlisted), a seeded sample, are split by the month of their latest release;
/// allowlisted packages have no inclusion date, so they are split by a seeded shuffle, stratified by whether they are ranked.
/// </summary>
public static class EvaluationDataset
{
    public static IReadOnlyList<LabelledExample> Build(
        IReadOnlyList<SnapshotRow> snapshot,
        IReadOnlyList<string> referenceAllowlist,
        IReadOnlyList<string> coreAllowlist,
        IReadOnlyList<MaliciousRow> malicious,
        SplitSettings settings,
        IReadOnlyList<BuildTimeRow>? buildTimes = null)
    {
        if (settings.HonestTime && buildTimes is null)
        {
            throw new ArgumentException("the honest-time split needs the build-time table", nameof(buildTimes));
        }
        var examples = new List<LabelledExample>();
        var bySnapshotName = new Dictionary<string, SnapshotRow>(StringComparer.Ordinal);
        foreach (var row in snapshot)
        {
            bySnapshotName.TryAdd(row.NormalizedName, row);
        }
        var core = new HashSet<string>(coreAllowlist, StringComparer.Ordinal);
        var allowed = new HashSet<string>(referenceAllowlist.Concat(coreAllowlist), StringComparer.Ordinal);

        // Positives: reference allowlist (which contains the core list), looked up in the snapshot.
        var positives = allowed.Order(StringComparer.Ordinal).Where(bySnapshotName.ContainsKey).Select(n => bySnapshotName[n]).ToList();
        var rng = new Random(settings.Seed);
        foreach (var stratum in positives.GroupBy(p => p.Rank is not null).OrderBy(g => g.Key))
        {
            var shuffled = stratum.ToList();
            Shuffle(shuffled, rng);
            for (var i = 0; i < shuffled.Count; i++)
            {
                examples.Add(new LabelledExample(ReferenceData.ToRecord(shuffled[i]), ExampleSource.Allowlisted, PartOf(i, shuffled.Count, settings), -1, core.Contains(shuffled[i].NormalizedName)));
            }
        }

        // Malicious: campaigns, split by time of the campaign's first report.
        var maliciousList = malicious.GroupBy(m => m.NormalizedName, StringComparer.Ordinal).Select(g => g.OrderBy(m => m.Published).First()).ToList();
        if (settings.HonestTime)
        {
            AddMaliciousByUpload(examples, maliciousList, buildTimes!, settings);
        }
        else
        {
            AddMaliciousByReport(examples, maliciousList, settings);
        }

        // Long tail: not ranked, not allowlisted; a seeded sample split by month of latest release.
        var tail = snapshot.Where(r => r.Rank is null && !allowed.Contains(r.NormalizedName)).ToList();
        var sample = new List<SnapshotRow>(tail);
        Shuffle(sample, new Random(settings.Seed + 1));
        sample = sample.Take(settings.LongTailSample)
            .OrderBy(r => r.LatestMonth ?? DateTimeOffset.MinValue).ThenBy(r => r.NormalizedName, StringComparer.Ordinal).ToList();
        for (var i = 0; i < sample.Count; i++)
        {
            examples.Add(new LabelledExample(ReferenceData.ToRecord(sample[i]), ExampleSource.LongTail, PartOf(i, sample.Count, settings), -1, false));
        }
        return examples;
    }

    /// <summary>
    /// Honest time: each malicious name observed at its upload; campaigns by name and upload burst
    /// (<see cref="CampaignGrouper.GroupWithUploads"/>), ordered by their first upload and assigned whole.
    /// </summary>
    private static void AddMaliciousByUpload(List<LabelledExample> examples, IReadOnlyList<MaliciousRow> maliciousList, IReadOnlyList<BuildTimeRow> buildTimes, SplitSettings settings)
    {
        var builds = new Dictionary<string, BuildTimeRow>(StringComparer.Ordinal);
        foreach (var b in buildTimes)
        {
            builds.TryAdd(b.NormalizedName, b);
        }
        var lifetimes = maliciousList.Select(m =>
        {
            var build = builds.GetValueOrDefault(m.NormalizedName);
            var (upload, fromBuild) = ReferenceData.UploadTime(m, build);
            var last = fromBuild && build!.LastBuild is { } l && l >= upload && l <= m.Published.AddDays(1) ? l : (DateTimeOffset?)null;
            return new MaliciousLifetime(upload, fromBuild, last, m.Published, m, build);
        }).ToList();
        var records = lifetimes.Select(l => ReferenceData.ToRecord(l.Row, l.Build, l.Upload)).ToList();
        var campaigns = CampaignGrouper.GroupWithUploads(
            maliciousList.Select(m => m.NormalizedName).ToList(),
            lifetimes.Select(l => l.UploadFromBuild ? l.Upload : (DateTimeOffset?)null).ToList(),
            records.Select(r => r.LatestVersion).ToList());
        var order = Enumerable.Range(0, maliciousList.Count).GroupBy(i => campaigns[i])
            .OrderBy(g => g.Min(i => lifetimes[i].Upload)).ThenBy(g => g.Key).ToList();
        var seen = 0;
        foreach (var campaign in order)
        {
            var part = PartOf(seen, maliciousList.Count, settings);
            foreach (var i in campaign.OrderBy(i => maliciousList[i].NormalizedName, StringComparer.Ordinal))
            {
                examples.Add(new LabelledExample(records[i], ExampleSource.Malicious, part, campaign.Key, false) { Lifetime = lifetimes[i] });
            }
            seen += campaign.Count();
        }
    }

    private static void AddMaliciousByReport(List<LabelledExample> examples, IReadOnlyList<MaliciousRow> maliciousList, SplitSettings settings)
    {
        var campaigns = CampaignGrouper.Group(maliciousList.Select(m => m.NormalizedName).ToList());
        var campaignOrder = maliciousList.Select((m, i) => (m, campaign: campaigns[i]))
            .GroupBy(x => x.campaign)
            .OrderBy(g => g.Min(x => x.m.Published)).ThenBy(g => g.Key)
            .ToList();
        var seen = 0;
        foreach (var campaign in campaignOrder)
        {
            var part = PartOf(seen, maliciousList.Count, settings);
            foreach (var (m, id) in campaign.OrderBy(x => x.m.NormalizedName, StringComparer.Ordinal))
            {
                var record = ReferenceData.ToRecord(m);
                examples.Add(new LabelledExample(settings.MaliciousAsNewUploads ? ReferenceData.AsNewUpload(record) : record, ExampleSource.Malicious, part, id, false));
            }
            seen += campaign.Count();
        }
    }

    private static SplitPart PartOf(int index, int count, SplitSettings settings)
    {
        var position = (double)index / Math.Max(1, count);
        return position < settings.TrainShare ? SplitPart.Train
            : position < settings.TrainShare + settings.ValidationShare ? SplitPart.Validation
            : SplitPart.Test;
    }

    private static void Shuffle<T>(List<T> list, Random rng)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
