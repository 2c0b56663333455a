using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Policy;

/// <summary>
/// The allowlist entry rules as the web application calls them (in process, no endpoint authorisation in front): a
/// package request by a researcher is a pending entry with the requester and the reason; only a college Referee other
/// than the requester decides it, with a reason; the outcome is stored and audited.
/// </summary>
public sealed class AllowlistEntriesTests
{
    private static Caller Person(string name, params (Role Role, string? Project)[] roles) =>
        new(name, roles.Where(r => r.Project is null).Select(r => r.Role), roles.Where(r => r.Project is not null).Select(r => (r.Project!, r.Role)), "test");

    [Fact]
    public async Task A_researchers_request_is_a_pending_entry_that_only_another_college_Referee_decides()
    {
        await using var host = await ManagementHost.StartAsync(new Dictionary<string, string> { ["SafeHaven:Tier"] = "3" });
        var entries = host.Services.GetRequiredService<AllowlistEntries>();
        var researcher = Person("rita", (Role.Researcher, "a"));
        var projectReferee = Person("pref", (Role.Referee, "a"));
        var collegeRequester = Person("cora", (Role.CollegeReferee, null), (Role.Researcher, "a"));
        var college = Person("rex", (Role.CollegeReferee, null));

        Assert.True(AllowlistEntries.MayRequest(researcher));
        Assert.False(AllowlistEntries.MayRequest(Person("nobody")));
        var noReason = await entries.AddAsync(researcher, "pypi", "shapp", "", CancellationToken.None);
        Assert.Equal((AllowlistOutcomeKind.Invalid, "reason"), (noReason.Kind, noReason.Field));
        var badName = await entries.AddAsync(researcher, "pypi", "../etc", "why", CancellationToken.None);
        Assert.Equal((AllowlistOutcomeKind.Invalid, "name"), (badName.Kind, badName.Field));
        var filed = await entries.AddAsync(researcher, "pypi", "ShApp", "for the alpha analysis", CancellationToken.None);
        Assert.Equal(AllowlistOutcomeKind.Done, filed.Kind);
        Assert.Equal(("shapp", "rita", AllowlistEntryStatus.Pending), (filed.Entry!.Name, filed.Entry.AddedBy, filed.Entry.Status));
        Assert.Equal(AllowlistOutcomeKind.Conflict, (await entries.AddAsync(researcher, "pypi", "shapp", "again", CancellationToken.None)).Kind);

        Assert.Equal(AllowlistOutcomeKind.Forbidden, (await entries.DecideAsync(researcher, "pypi", "shapp", AllowlistEntryStatus.Approved, "mine", CancellationToken.None)).Kind);
        Assert.Equal(AllowlistOutcomeKind.Forbidden, (await entries.DecideAsync(projectReferee, "pypi", "shapp", AllowlistEntryStatus.Approved, "fine", CancellationToken.None)).Kind);
        var missingReason = await entries.DecideAsync(college, "pypi", "shapp", AllowlistEntryStatus.Approved, " ", CancellationToken.None);
        Assert.Equal((AllowlistOutcomeKind.Invalid, "reason"), (missingReason.Kind, missingReason.Field));
        Assert.DoesNotContain("shapp", host.PolicyProvider.Current.AllowlistFor("pypi").Entries.Select(e => e.Name));

        var own = await entries.AddAsync(collegeRequester, "pypi", "shown", "my own", CancellationToken.None);
        Assert.Equal(AllowlistOutcomeKind.Done, own.Kind);
        Assert.Equal(AllowlistOutcomeKind.Forbidden, (await entries.DecideAsync(collegeRequester, "pypi", "shown", AllowlistEntryStatus.Approved, "mine", CancellationToken.None)).Kind);

        var approved = await entries.DecideAsync(college, "pypi", "shapp", AllowlistEntryStatus.Approved, "small and old", CancellationToken.None);
        Assert.Equal(AllowlistOutcomeKind.Done, approved.Kind);
        Assert.Equal(("rex", "small and old"), (approved.Entry!.DecidedBy, approved.Entry.DecisionReason));
        Assert.Contains("shapp", host.PolicyProvider.Current.AllowlistFor("pypi").Entries.Select(e => e.Name));
        Assert.Equal(AllowlistOutcomeKind.Conflict, (await entries.DecideAsync(college, "pypi", "shapp", AllowlistEntryStatus.Rejected, "late", CancellationToken.None)).Kind);
    }
}
