using SafeHaven.Management.Projects;

namespace SafeHaven.Management.Tests.Projects;

/// <summary>
/// The flowchart of Arenas et al. (Figure 2) as the Data Safe Haven documentation draws it: every path to every tier,
/// the questions asked on the way, and the refusals of answers that do not fit.
/// </summary>
public sealed class ClassificationFlowchartTests
{
    private static FlowchartWalk Walk(string answers)
    {
        var walk = ClassificationFlowchart.Parse(answers.Split(' ', StringSplitOptions.RemoveEmptyEntries), out var problem);
        Assert.True(walk is not null, problem);
        return walk!;
    }

    [Theory]
    // Open data, no competitive interest: tier 0; with a competitive interest: tier 1.
    [InlineData("no no no no", 0, "generates-personal inputs-personal sensitive competitive-advantage")]
    [InlineData("no no no yes", 1, "generates-personal inputs-personal sensitive competitive-advantage")]
    // Sensitive but trivially so: tier 1; low consequences that are not trivial: tier 2.
    [InlineData("no no yes yes yes", 1, "generates-personal inputs-personal sensitive consequences-low consequences-trivial")]
    [InlineData("no no yes yes no", 2, "generates-personal inputs-personal sensitive consequences-low consequences-trivial")]
    // Consequences not low: the attackers decide between 3 and 4.
    [InlineData("no no yes no no", 3, "generates-personal inputs-personal sensitive consequences-low attackers")]
    [InlineData("no no yes no yes", 4, "generates-personal inputs-personal sensitive consequences-low attackers")]
    // Generating personal data: the threat to the data subjects decides between 3 and 4.
    [InlineData("yes no", 3, "generates-personal disclosure-threat")]
    [InlineData("yes yes", 4, "generates-personal disclosure-threat")]
    // Personal inputs that are public without restriction are treated as non-personal.
    [InlineData("no yes yes no no", 0, "generates-personal inputs-personal personal-public sensitive competitive-advantage")]
    // Personal, not pseudonymised: threat question.
    [InlineData("no yes no no yes", 4, "generates-personal inputs-personal personal-public pseudonymised disclosure-threat")]
    // Pseudonymised with absolute confidence: as non-personal.
    [InlineData("no yes no yes yes no yes", 1, "generates-personal inputs-personal personal-public pseudonymised absolute-confidence sensitive competitive-advantage")]
    // Pseudonymised with strong (not absolute) confidence and nothing else sensitive: tier 2.
    [InlineData("no yes no yes no yes no", 2, "generates-personal inputs-personal personal-public pseudonymised absolute-confidence strong-confidence also-sensitive")]
    // ... also sensitive but with low consequences: still tier 2; consequences not low: the attackers.
    [InlineData("no yes no yes no yes yes yes", 2, "generates-personal inputs-personal personal-public pseudonymised absolute-confidence strong-confidence also-sensitive also-consequences-low")]
    [InlineData("no yes no yes no yes yes no no", 3, "generates-personal inputs-personal personal-public pseudonymised absolute-confidence strong-confidence also-sensitive also-consequences-low attackers")]
    // Without strong confidence: the attackers.
    [InlineData("no yes no yes no no yes", 4, "generates-personal inputs-personal personal-public pseudonymised absolute-confidence strong-confidence attackers")]
    public void Each_path_reaches_the_tier_of_the_figure(string answers, int tier, string questions)
    {
        var walk = Walk(answers);

        Assert.True(walk.Finished);
        Assert.Equal(tier, walk.Tier);
        Assert.Null(walk.Next);
        Assert.Equal(questions.Split(' '), walk.Answers.Select(a => a.Question.Id));
        Assert.Equal(answers.Split(' '), walk.Encoded);
    }

    [Fact]
    public void Every_question_is_reachable_and_every_tier_is_an_end()
    {
        var reached = new HashSet<string>();
        var tiers = new HashSet<int>();
        var queue = new Queue<string>([ClassificationFlowchart.First.Id]);
        while (queue.TryDequeue(out var id))
        {
            if (!reached.Add(id))
            {
                continue;
            }
            foreach (var step in new[] { ClassificationFlowchart.Question(id).Yes, ClassificationFlowchart.Question(id).No })
            {
                if (step.Question is { } next) { queue.Enqueue(next); }
                if (step.Tier is { } tier) { tiers.Add(tier); }
            }
        }
        Assert.Equal(ClassificationFlowchart.Questions.Select(q => q.Id).Order(), reached.Order());
        Assert.Equal([0, 1, 2, 3, 4], tiers.Order());
    }

    [Fact]
    public void A_partial_walk_names_the_next_question()
    {
        var walk = Walk("no yes");

        Assert.False(walk.Finished);
        Assert.Null(walk.Tier);
        Assert.Equal("personal-public", walk.Next!.Id);
        Assert.Equal("The work will not generate personal data; Some inputs are personal data.", walk.Describe());
    }

    [Fact]
    public void The_description_says_the_answers_in_words_and_the_tier()
    {
        Assert.Equal("The work will generate personal data; Disclosure would not substantially threaten the safety, health or security of the people in the data. Flowchart result: tier 3.",
            Walk("yes no").Describe());
    }

    [Fact]
    public void Answers_beyond_the_end_are_refused()
    {
        Assert.Null(ClassificationFlowchart.Parse(["yes", "no", "yes"], out var problem));
        Assert.Equal("The flowchart reached tier 3 after 2 answer(s); there is no further question to answer.", problem);
    }

    [Fact]
    public void A_word_that_is_not_an_answer_is_refused()
    {
        Assert.Null(ClassificationFlowchart.Parse(["yes", "maybe"], out var problem));
        Assert.Equal("Answer 2 is 'maybe': each answer is yes or no.", problem);
    }

    [Fact]
    public void No_answers_is_the_first_question()
    {
        var walk = Walk("");
        Assert.Same(ClassificationFlowchart.First, walk.Next);
        Assert.Empty(walk.Answers);
    }
}
