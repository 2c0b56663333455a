namespace SafeHaven.Management.Projects;

/// <summary>One yes/no question of the flowchart, with the statement each answer makes (for the record, in words).</summary>
public sealed record FlowchartQuestion(string Id, string Text, string IfYes, string IfNo, FlowchartStep Yes, FlowchartStep No);

/// <summary>Where an answer leads: the next question (<see cref="Question"/>) or a tier (<see cref="Tier"/>).</summary>
public sealed record FlowchartStep(string? Question, int? Tier)
{
    public static FlowchartStep Ask(string question) => new(question, null);

    public static FlowchartStep ToTier(int tier) => new(null, tier);
}

/// <summary>One answered question on the way through the flowchart.</summary>
public sealed record FlowchartAnswer(FlowchartQuestion Question, bool Yes)
{
    /// <summary>What the answer states, in words ("The personal data is pseudonymised").</summary>
    public string Statement => Yes ? Question.IfYes : Question.IfNo;
}

/// <summary>
/// A walk through the flowchart: the questions answered so far in order, and either the next question to ask or the
/// tier reached (exactly one of <see cref="Next"/> and <see cref="Tier"/> is set).
/// </summary>
public sealed record FlowchartWalk(IReadOnlyList<FlowchartAnswer> Answers, FlowchartQuestion? Next, int? Tier)
{
    public bool Finished => Tier is not null;

    /// <summary>The answers as stored and sent on the API: "yes"/"no" in the order asked.</summary>
    public IReadOnlyList<string> Encoded => Answers.Select(a => a.Yes ? ClassificationFlowchart.Yes : ClassificationFlowchart.No).ToList();

    /// <summary>The path in words, one statement per answer, ending with the tier it led to.</summary>
    public string Describe() =>
        string.Join("; ", Answers.Select(a => a.Statement)) + (Tier is { } tier ? $". Flowchart result: tier {tier}." : ".");
}

/// <summary>
/// The work-package classification flowchart of Arenas et al., "Design choices for productive, secure, data-intensive
/// research at scale in the cloud" (arXiv:1908.08737, Figure 2), as the Turing's Data Safe Haven documentation
/// publishes it ("Classification process", full classification flow; its classification web tool asks the same
/// questions one at a time): a sequence of yes/no questions about the data (whether personal data is generated or
/// used, whether it is public, pseudonymised, how confident one is that nobody can be re-identified, whether it is
/// commercially, legally or politically sensitive, how bad disclosure would be, and who the likely attackers are)
/// ending at Tier 0 to 4. Each classifier walks it separately; the Investigator, the Dataset Provider Representative
/// and (from Tier 2) a Referee must then agree (<see cref="WorkPackageClassification"/>). The question wording here is
/// ours; the structure (which answer leads where) is the figure's.
/// </summary>
public static class ClassificationFlowchart
{
    public const string Yes = "yes";
    public const string No = "no";

    private static readonly FlowchartQuestion[] All =
    [
        new("generates-personal",
            "Will the work generate any personal data, including by selecting, sorting or combining data?",
            "The work will generate personal data", "The work will not generate personal data",
            FlowchartStep.Ask("disclosure-threat"), FlowchartStep.Ask("inputs-personal")),
        new("inputs-personal",
            "Will any input of the work be personal data?",
            "Some inputs are personal data", "No input is personal data",
            FlowchartStep.Ask("personal-public"), FlowchartStep.Ask("sensitive")),
        new("personal-public",
            "Is that personal data lawfully available to the general public with no restriction on its use?",
            "The personal data is lawfully public with no restriction on its use", "The personal data is not public without restriction",
            FlowchartStep.Ask("sensitive"), FlowchartStep.Ask("pseudonymised")),
        new("pseudonymised",
            "Is that personal data pseudonymised?",
            "The personal data is pseudonymised", "The personal data is not pseudonymised",
            FlowchartStep.Ask("absolute-confidence"), FlowchartStep.Ask("disclosure-threat")),
        new("disclosure-threat",
            "Would disclosure pose a substantial threat to the personal safety, health or security of the people in the data?",
            "Disclosure would substantially threaten the safety, health or security of the people in the data",
            "Disclosure would not substantially threaten the safety, health or security of the people in the data",
            FlowchartStep.ToTier(4), FlowchartStep.ToTier(3)),
        new("absolute-confidence",
            "Are you absolutely confident that nobody can be identified from the data, as it arrives or through any analysis of it?",
            "Absolutely confident that nobody can be identified", "Not absolutely confident that nobody can be identified",
            FlowchartStep.Ask("sensitive"), FlowchartStep.Ask("strong-confidence")),
        new("sensitive",
            "Will the work use commercial-in-confidence information, private third-party intellectual property, or legally or politically sensitive data?",
            "The work uses commercially, legally or politically sensitive data", "The work uses no commercially, legally or politically sensitive data",
            FlowchartStep.Ask("consequences-low"), FlowchartStep.Ask("competitive-advantage")),
        new("competitive-advantage",
            "Would releasing any of the data or results harm the research team's competitive advantage?",
            "Releasing the data or results would harm the team's competitive advantage", "Releasing the data or results would not harm the team's competitive advantage",
            FlowchartStep.ToTier(1), FlowchartStep.ToTier(0)),
        new("consequences-low",
            "Are you highly confident that the commercial, legal, reputational or political consequences of unauthorised disclosure would be low?",
            "Highly confident the consequences of disclosure would be low", "Not highly confident the consequences of disclosure would be low",
            FlowchartStep.Ask("consequences-trivial"), FlowchartStep.Ask("attackers")),
        new("consequences-trivial",
            "Are you highly confident that those consequences would be so low as to be trivial?",
            "Highly confident the consequences would be trivial", "Not highly confident the consequences would be trivial",
            FlowchartStep.ToTier(1), FlowchartStep.ToTier(2)),
        new("strong-confidence",
            "Are you strongly confident that nobody can be identified from the data, as it arrives or through any analysis of it?",
            "Strongly confident that nobody can be identified", "Not strongly confident that nobody can be identified",
            FlowchartStep.Ask("also-sensitive"), FlowchartStep.Ask("attackers")),
        new("also-sensitive",
            "Will the work also use commercial-in-confidence information, private third-party intellectual property, or legally or politically sensitive data?",
            "The work also uses commercially, legally or politically sensitive data", "The work uses no other sensitive data",
            FlowchartStep.Ask("also-consequences-low"), FlowchartStep.ToTier(2)),
        new("also-consequences-low",
            "Are you highly confident that the commercial, legal, reputational or political consequences of unauthorised disclosure would be low?",
            "Highly confident the consequences of disclosure would be low", "Not highly confident the consequences of disclosure would be low",
            FlowchartStep.ToTier(2), FlowchartStep.Ask("attackers")),
        new("attackers",
            "Do the likely attackers include sophisticated, well-resourced and determined threats, such as serious organised crime or state actors?",
            "Likely attackers include sophisticated, well-resourced threats such as organised crime or state actors",
            "Likely attackers do not include sophisticated, well-resourced threats",
            FlowchartStep.ToTier(4), FlowchartStep.ToTier(3)),
    ];

    private static readonly Dictionary<string, FlowchartQuestion> ById = All.ToDictionary(q => q.Id, StringComparer.Ordinal);

    public static IReadOnlyList<FlowchartQuestion> Questions => All;

    public static FlowchartQuestion First => All[0];

    public static FlowchartQuestion Question(string id) => ById[id];

    /// <summary>
    /// Walks the flowchart with the answers given in order (true = yes). Null, with <paramref name="problem"/> saying
    /// why, when there are more answers than the path has questions.
    /// </summary>
    public static FlowchartWalk? Walk(IEnumerable<bool> answers, out string? problem)
    {
        problem = null;
        var path = new List<FlowchartAnswer>();
        var question = First;
        int? tier = null;
        foreach (var yes in answers)
        {
            if (tier is not null)
            {
                problem = $"The flowchart reached tier {tier} after {path.Count} answer(s); there is no further question to answer.";
                return null;
            }
            path.Add(new FlowchartAnswer(question!, yes));
            var step = yes ? question!.Yes : question!.No;
            tier = step.Tier;
            question = step.Question is { } next ? ById[next] : null;
        }
        return new FlowchartWalk(path, question, tier);
    }

    /// <summary>
    /// Reads answers written as "yes"/"no" (any case; "y"/"n" too), in the order asked, and walks them. Null with the
    /// problem when a word is not an answer or there are too many.
    /// </summary>
    public static FlowchartWalk? Parse(IEnumerable<string> answers, out string? problem)
    {
        var parsed = new List<bool>();
        foreach (var (word, index) in answers.Select((w, i) => (w?.Trim().ToLowerInvariant(), i)))
        {
            switch (word)
            {
                case Yes or "y":
                    parsed.Add(true);
                    break;
                case No or "n":
                    parsed.Add(false);
                    break;
                default:
                    problem = $"Answer {index + 1} is '{word}': each answer is yes or no.";
                    return null;
            }
        }
        return Walk(parsed, out problem);
    }
}
