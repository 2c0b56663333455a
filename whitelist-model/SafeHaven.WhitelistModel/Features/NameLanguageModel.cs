namespace SafeHaven.WhitelistModel.Features;

/// <summary>
/// A character-trigram model of popular package names, to say how much a name "reads like" a common package name
/// (<c>characteristic</c> does, <c>j5gnpuiwerbngpiu</c> does not). Add-one smoothing; a name that is itself in the
/// training names is scored leave-one-out (its own trigrams removed), so being popular does not raise its own score.
/// </summary>
public sealed class NameLanguageModel
{
    private const int AlphabetSize = 38; // a-z, 0-9, '-', end marker

    private readonly Dictionary<string, int> _trigrams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _contexts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public NameLanguageModel(IEnumerable<string> normalizedNames)
    {
        ArgumentNullException.ThrowIfNull(normalizedNames);
        foreach (var name in normalizedNames)
        {
            if (name.Length == 0 || !_names.Add(name))
            {
                continue;
            }
            foreach (var (context, trigram) in Trigrams(name))
            {
                _trigrams[trigram] = _trigrams.GetValueOrDefault(trigram) + 1;
                _contexts[context] = _contexts.GetValueOrDefault(context) + 1;
            }
        }
    }

    /// <summary>Average log2-probability per character (higher reads more like a popular name; typically -3 to -6).</summary>
    public double AverageLogProbability(string normalizedName)
    {
        ArgumentNullException.ThrowIfNull(normalizedName);
        var self = _names.Contains(normalizedName);
        var own = self ? Trigrams(normalizedName).ToList() : null;
        double total = 0;
        var n = 0;
        foreach (var (context, trigram) in Trigrams(normalizedName))
        {
            var t = _trigrams.GetValueOrDefault(trigram);
            var c = _contexts.GetValueOrDefault(context);
            if (own is not null)
            {
                t -= own.Count(o => o.Trigram == trigram);
                c -= own.Count(o => o.Context == context);
            }
            total += Math.Log2((t + 1.0) / (c + AlphabetSize));
            n++;
        }
        return n == 0 ? 0 : total / n;
    }

    private static IEnumerable<(string Context, string Trigram)> Trigrams(string name)
    {
        var padded = "^^" + name + "$";
        for (var i = 2; i < padded.Length; i++)
        {
            yield return (padded.Substring(i - 2, 2), padded.Substring(i - 2, 3));
        }
    }
}
