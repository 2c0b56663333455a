using System.Text;
using SafeHaven.WhitelistModel.Features;

namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>
/// Groups malicious names into campaigns so that near-identical names stay on one side of a split:
/// names with the same skeleton (letters only: digits and separators removed, e.g. <c>18923aa</c> and <c>191239aa</c> → <c>aa</c>)
/// are one campaign, and so are names whose skeletons (of 5 letters or more) are one edit apart.
/// </summary>
public static class CampaignGrouper
{
    public const int MinSkeletonForFuzzyMatch = 5;

    /// <summary>The letters-only skeleton of a normalised name; names without letters keep their digit pattern (<c>#</c> per digit run).</summary>
    public static string Skeleton(string normalizedName)
    {
        var letters = new StringBuilder();
        foreach (var c in normalizedName)
        {
            if (char.IsAsciiLetter(c))
            {
                letters.Append(c);
            }
        }
        if (letters.Length > 0)
        {
            return letters.ToString();
        }
        var shape = new StringBuilder("#");
        foreach (var c in normalizedName)
        {
            if (!char.IsAsciiDigit(c))
            {
                shape.Append(c);
            }
        }
        return shape.ToString();
    }

    /// <summary>Longest gap between two uploads of one campaign that follow each other in time (see <see cref="GroupWithUploads"/>).</summary>
    public static readonly TimeSpan UploadBurstGap = TimeSpan.FromMinutes(10);

    /// <summary>The shape of a version string: each run of digits becomes one <c>9</c> (<c>4.57</c> and <c>10.49</c> → <c>9.9</c>).</summary>
    public static string VersionShape(string? version)
    {
        if (version is null)
        {
            return "?";
        }
        var sb = new StringBuilder();
        foreach (var c in version)
        {
            if (!char.IsAsciiDigit(c))
            {
                sb.Append(c);
            }
            else if (sb.Length == 0 || sb[^1] != '9')
            {
                sb.Append('9');
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Campaigns by name and by upload: <see cref="Group(IReadOnlyList{string})"/>, and also names uploaded in one burst by one tool,
    /// i.e. that follow each other in upload time with gaps of at most <see cref="UploadBurstGap"/> and whose latest versions have
    /// the same shape (the data have no author, so this is the author pattern we can see). Names without a believable upload time
    /// are grouped by name only.
    /// </summary>
    public static int[] GroupWithUploads(IReadOnlyList<string> normalizedNames, IReadOnlyList<DateTimeOffset?> uploads, IReadOnlyList<string?> latestVersions)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        ArgumentNullException.ThrowIfNull(latestVersions);
        var sets = new DisjointSets(Group(normalizedNames));
        var timed = Enumerable.Range(0, normalizedNames.Count).Where(i => uploads[i] is not null)
            .GroupBy(i => VersionShape(latestVersions[i]), StringComparer.Ordinal);
        foreach (var shape in timed)
        {
            var ordered = shape.OrderBy(i => uploads[i]).ThenBy(i => i).ToList();
            for (var k = 1; k < ordered.Count; k++)
            {
                if (uploads[ordered[k]]!.Value - uploads[ordered[k - 1]]!.Value <= UploadBurstGap)
                {
                    sets.Union(ordered[k - 1], ordered[k]);
                }
            }
        }
        return sets.Roots();
    }

    /// <summary>Campaign id (index of its first member) for each normalised name, in input order.</summary>
    public static int[] Group(IReadOnlyList<string> normalizedNames)
    {
        ArgumentNullException.ThrowIfNull(normalizedNames);
        var sets = new DisjointSets(Enumerable.Range(0, normalizedNames.Count).ToArray());

        var bySkeleton = new Dictionary<string, int>(StringComparer.Ordinal);
        var skeletons = new string[normalizedNames.Count];
        for (var i = 0; i < normalizedNames.Count; i++)
        {
            skeletons[i] = Skeleton(normalizedNames[i]);
            if (bySkeleton.TryGetValue(skeletons[i], out var first))
            {
                sets.Union(first, i);
            }
            else
            {
                bySkeleton[skeletons[i]] = i;
            }
        }

        // One edit apart: two skeletons share a one-deletion variant (covers substitution, insertion, deletion).
        var byDeletion = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var (skeleton, index) in bySkeleton)
        {
            if (skeleton.Length < MinSkeletonForFuzzyMatch)
            {
                continue;
            }
            var variants = new HashSet<string>(StringComparer.Ordinal) { skeleton };
            for (var k = 0; k < skeleton.Length; k++)
            {
                variants.Add(skeleton.Remove(k, 1));
            }
            foreach (var v in variants)
            {
                if (!byDeletion.TryGetValue(v, out var others))
                {
                    byDeletion[v] = others = [];
                }
                foreach (var other in others)
                {
                    if (sets.Find(other) != sets.Find(index) && EditDistance.Compute(skeletons[other], skeleton) <= 1)
                    {
                        sets.Union(other, index);
                    }
                }
                others.Add(index);
            }
        }

        return sets.Roots();
    }

    /// <summary>Union-find over indices; a set is named by its smallest index, so campaign ids do not depend on merge order.</summary>
    private sealed class DisjointSets(int[] parent)
    {
        public int Find(int i)
        {
            while (parent[i] != i)
            {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            return i;
        }

        public void Union(int a, int b)
        {
            var (ra, rb) = (Find(a), Find(b));
            if (ra != rb)
            {
                parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
            }
        }

        public int[] Roots() => Enumerable.Range(0, parent.Length).Select(Find).ToArray();
    }
}
