using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;

namespace SafeHaven.Management.Tests.Projects;

public sealed class WorkPackageClassificationTests
{
    private static Classification C(Role role, int tier, string who = "someone") => new(who + "-" + role, role, tier, "reason", DateTimeOffset.UnixEpoch);

    [Fact]
    public void Nothing_recorded_is_pending_on_the_Investigator_and_the_Dataset_Provider_Representative()
    {
        var outcome = WorkPackageClassification.Decide([]);

        Assert.Equal(ClassificationState.Pending, outcome.State);
        Assert.Equal([Role.Investigator, Role.DatasetProviderRepresentative], outcome.Missing);
        Assert.False(outcome.CanProceed);
        Assert.Null(outcome.HighestProposedTier);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Below_tier_2_the_Investigator_and_Dataset_Provider_Representative_agreeing_is_enough(int tier)
    {
        var outcome = WorkPackageClassification.Decide([C(Role.Investigator, tier), C(Role.DatasetProviderRepresentative, tier)]);

        Assert.Equal(ClassificationState.Agreed, outcome.State);
        Assert.Equal(tier, outcome.AgreedTier);
        Assert.True(outcome.CanProceed);
        Assert.Empty(outcome.Missing);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void From_tier_2_a_Referee_is_required(int tier)
    {
        var without = WorkPackageClassification.Decide([C(Role.Investigator, tier), C(Role.DatasetProviderRepresentative, tier)]);
        Assert.Equal(ClassificationState.Pending, without.State);
        Assert.Equal([Role.Referee], without.Missing);
        Assert.Null(without.AgreedTier);
        Assert.Equal(tier, without.HighestProposedTier);

        var with = WorkPackageClassification.Decide([C(Role.Investigator, tier), C(Role.DatasetProviderRepresentative, tier), C(Role.Referee, tier)]);
        Assert.Equal(ClassificationState.Agreed, with.State);
        Assert.Equal(tier, with.AgreedTier);
    }

    [Fact]
    public void One_classifier_alone_is_pending_even_at_tier_0()
    {
        var outcome = WorkPackageClassification.Decide([C(Role.Investigator, 0)]);

        Assert.Equal(ClassificationState.Pending, outcome.State);
        Assert.Equal([Role.DatasetProviderRepresentative], outcome.Missing);
    }

    [Fact]
    public void Disagreement_blocks_the_work_package_and_shows_the_highest_proposed_tier()
    {
        var outcome = WorkPackageClassification.Decide([C(Role.Investigator, 2), C(Role.DatasetProviderRepresentative, 3), C(Role.Referee, 2)]);

        Assert.Equal(ClassificationState.Disagreed, outcome.State);
        Assert.False(outcome.CanProceed);
        Assert.Null(outcome.AgreedTier);
        Assert.Equal(3, outcome.HighestProposedTier);
        Assert.Contains("tier 3", outcome.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Disagreement_shows_even_before_everyone_has_classified()
    {
        var outcome = WorkPackageClassification.Decide([C(Role.Investigator, 1), C(Role.DatasetProviderRepresentative, 2)]);

        Assert.Equal(ClassificationState.Disagreed, outcome.State);
        Assert.Equal(2, outcome.HighestProposedTier);
        Assert.Equal([Role.Referee], outcome.Missing);
    }

    [Fact]
    public void A_Referee_proposing_a_higher_tier_than_the_others_is_a_disagreement()
    {
        var outcome = WorkPackageClassification.Decide([C(Role.Investigator, 2), C(Role.DatasetProviderRepresentative, 2), C(Role.Referee, 4)]);

        Assert.Equal(ClassificationState.Disagreed, outcome.State);
        Assert.Equal(4, outcome.HighestProposedTier);
    }

    [Fact]
    public void Several_Investigators_must_all_agree()
    {
        var agreeing = WorkPackageClassification.Decide([C(Role.Investigator, 1, "x"), C(Role.Investigator, 1, "y"), C(Role.DatasetProviderRepresentative, 1)]);
        Assert.Equal(ClassificationState.Agreed, agreeing.State);

        var split = WorkPackageClassification.Decide([C(Role.Investigator, 1, "x"), C(Role.Investigator, 0, "y"), C(Role.DatasetProviderRepresentative, 1)]);
        Assert.Equal(ClassificationState.Disagreed, split.State);
        Assert.Equal(1, split.HighestProposedTier);
    }

    [Fact]
    public void One_person_in_two_classifier_roles_counts_once_and_the_other_role_stays_missing()
    {
        var outcome = WorkPackageClassification.Decide([
            new Classification("both", Role.Investigator, 3, "r", DateTimeOffset.UnixEpoch),
            new Classification("dpr", Role.DatasetProviderRepresentative, 3, "r", DateTimeOffset.UnixEpoch),
            new Classification("both", Role.Referee, 3, "r", DateTimeOffset.UnixEpoch.AddMinutes(1))]);

        Assert.Equal(ClassificationState.Pending, outcome.State);
        Assert.False(outcome.CanProceed);
        Assert.Equal([Role.Referee], outcome.Missing);
        Assert.Contains("each role needs a different person", outcome.Explanation, StringComparison.Ordinal);
    }
}
