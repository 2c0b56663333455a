using System.Security.Cryptography;
using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Projects;

/// <summary>
/// The projects pages in Debian's Chromium, signed in through the real identity provider: who sees what, members and
/// roles, the classification dialogue of two classifiers who first disagree and then agree, and the data-sharing
/// agreement upload. Every page is checked with axe-core and for Content-Security-Policy violations.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ProjectPagesTests(WebApplianceFixture web)
{
    private const string Alpha = WebUsers.Project;

    private Task<IPage> SignedInAsync(string user) => ProjectsSetup.For(web).SignedInPageAsync(user);

    private async Task CheckedAsync(IPage page)
    {
        await web.AssertAccessibleAsync(page);
        web.AssertNoCspViolations(page);
    }

    private async Task<IResponse> GotoAsync(IPage page, string path) => (await page.GotoAsync(web.Url(path)))!;

    [Fact]
    public async Task A_researcher_sees_their_project_without_member_forms_and_not_a_project_they_are_outside()
    {
        var page = await SignedInAsync(WebUsers.Researcher);

        await GotoAsync(page, "projects");
        Assert.Equal([Alpha], await page.Locator("#projects tbody tr td:first-child").AllInnerTextsAsync());
        Assert.Equal("Researcher", await page.InnerTextAsync("#projects tbody tr td:nth-child(3)"));
        await CheckedAsync(page);

        var project = await GotoAsync(page, $"projects/{Alpha}");
        Assert.Equal(200, project.Status);
        Assert.Equal("Researcher", await page.InnerTextAsync("#my-roles"));
        Assert.Equal(0, await page.Locator("#add-member").CountAsync());
        Assert.Equal(0, await page.Locator("#new-workpackage").CountAsync());
        Assert.Equal(0, await page.Locator("#members button").CountAsync());
        await CheckedAsync(page);

        var outside = await GotoAsync(page, $"projects/{ProjectsSetup.OtherProject}");
        Assert.Equal(404, outside.Status);
        Assert.Equal($"There is no project {ProjectsSetup.OtherProject} that you can see.", await page.InnerTextAsync("#error"));
        Assert.DoesNotContain("Beta study", await page.ContentAsync(), StringComparison.Ordinal);
        await CheckedAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_programme_manager_sees_every_project()
    {
        var page = await SignedInAsync(WebUsers.ProgrammeManager);
        await GotoAsync(page, "projects");
        // Every project, including those they hold no role in (other tests in the collection add more).
        var listed = await page.Locator("#projects tbody tr td:first-child").AllInnerTextsAsync();
        Assert.Contains(Alpha, listed);
        Assert.Contains(ProjectsSetup.OtherProject, listed);
        await Screenshots.SaveAsync(page, "projects-list");
        await CheckedAsync(page);
        await GotoAsync(page, $"projects/{ProjectsSetup.OtherProject}");
        Assert.Equal("Beta study", (await page.InnerTextAsync("h1")).Split(": ")[1]);
        // A Programme Manager appoints Project Managers and Investigators, nothing else.
        Assert.Equal(["ProjectManager", "Investigator"], await page.Locator("#add-role option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)"));
        await CheckedAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_project_manager_adds_and_removes_a_member_and_a_refusal_is_shown_in_the_rules_words()
    {
        var page = await SignedInAsync(WebUsers.ProjectManager);
        await GotoAsync(page, $"projects/{Alpha}");
        Assert.Equal(["Researcher", "Referee", "DatasetProviderRepresentative"],
            await page.Locator("#add-role option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)"));

        await page.FillAsync("#add-user", "nobody-at-all");
        await page.SelectOptionAsync("#add-role", "Researcher");
        var refused = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#add-member button[type=submit]"), r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        Assert.StartsWith("user: There is no active user nobody-at-all", await page.InnerTextAsync("#error"), StringComparison.Ordinal);
        await CheckedAsync(page);

        await page.FillAsync("#add-user", ProjectsSetup.Newcomer);
        await page.SelectOptionAsync("#add-role", "Researcher");
        await page.ClickAsync("#add-member button[type=submit]");
        await page.WaitForSelectorAsync("#message");
        Assert.Equal($"{ProjectsSetup.Newcomer} is now Researcher in {Alpha}.", await page.InnerTextAsync("#message"));
        var row = page.Locator("#members tbody tr", new() { HasText = ProjectsSetup.Newcomer });
        Assert.Equal("Researcher", await row.Locator("td:nth-child(2)").InnerTextAsync());
        await Screenshots.SaveAsync(page, "projects-members");
        await CheckedAsync(page);

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await row.Locator("button").ClickAsync();
        await page.WaitForSelectorAsync("#message");
        Assert.Equal($"{ProjectsSetup.Newcomer} is no longer Researcher in {Alpha}.", await page.InnerTextAsync("#message"));
        Assert.Equal(0, await page.Locator("#members tbody tr", new() { HasText = ProjectsSetup.Newcomer }).CountAsync());

        // Seen by the Investigator: no member forms (only Programme Managers and the Project Manager change members).
        var investigator = await SignedInAsync(WebUsers.Investigator);
        await GotoAsync(investigator, $"projects/{Alpha}");
        Assert.Equal(0, await investigator.Locator("#add-member").CountAsync());
        Assert.Equal(1, await investigator.Locator("#new-workpackage").CountAsync());
        await page.Context.CloseAsync();
        await investigator.Context.CloseAsync();
    }

    /// <summary>Creates a work package of the project through the project page's form; returns its page's address.</summary>
    private async Task<string> CreateWorkPackageAsync(IPage page, string name, string title)
    {
        await GotoAsync(page, $"projects/{Alpha}");
        await page.FillAsync("#wp-name", name);
        await page.FillAsync("#wp-title", title);
        await page.ClickAsync("#new-workpackage button[type=submit]");
        await page.WaitForSelectorAsync("#message");
        Assert.Equal($"Work package {name} created: its classifiers can now classify it.", await page.InnerTextAsync("#message"));
        return web.Url($"projects/{Alpha}/workpackages/{name}");
    }

    /// <summary>Walks the dialogue from its first question, one page per answer, and records the tier it reaches.</summary>
    private static async Task ClassifyAsync(IPage page, string url, params bool[] answers)
    {
        await page.GotoAsync(url + "?");
        var given = new List<string>();
        foreach (var yes in answers)
        {
            given.Add(yes ? "yes" : "no");
            var expected = "answers=" + string.Join("%2C", given);
            await page.ClickAsync(yes ? "#answer-yes" : "#answer-no");
            await page.WaitForURLAsync(u => u.EndsWith(expected, StringComparison.Ordinal));
        }
        await page.ClickAsync("#record-tier");
        await page.WaitForSelectorAsync("#message");
    }

    [Fact]
    public async Task Two_classifiers_answer_separately_see_their_disagreement_and_reach_consensus_when_one_revises()
    {
        var investigator = await SignedInAsync(WebUsers.Investigator);
        var url = await CreateWorkPackageAsync(investigator, "linkage", "Record linkage study");

        // The Investigator: no personal data, nothing sensitive, but a competitive interest: tier 1.
        await investigator.GotoAsync(url);
        Assert.Equal("Question 1: Will the work generate any personal data, including by selecting, sorting or combining data?",
            await investigator.InnerTextAsync("#question"));
        await CheckedAsync(investigator);
        await ClassifyAsync(investigator, url, false, false, false, true);
        Assert.Contains("Your classification (tier 1) is recorded.", await investigator.InnerTextAsync("#message"), StringComparison.Ordinal);
        Assert.Contains("Waiting for Dataset Provider Representative", await investigator.InnerTextAsync("#outcome .state"), StringComparison.Ordinal);

        // The Dataset Provider Representative: commercially sensitive, consequences low but not trivial: tier 2.
        var provider = await SignedInAsync(WebUsers.DatasetProvider);
        await ClassifyAsync(provider, url, false, false, true, true, false);
        Assert.Equal("Disagreement (highest proposed: tier 2)", await provider.InnerTextAsync("#outcome .state"));
        await CheckedAsync(provider);

        // The Investigator sees the disagreement and both classifiers' answers.
        await investigator.GotoAsync(url);
        Assert.Equal("Disagreement (highest proposed: tier 2)", await investigator.InnerTextAsync("#outcome .state"));
        Assert.Contains($"{WebUsers.Investigator}: tier 1", await investigator.InnerTextAsync("#explanation"), StringComparison.Ordinal);
        Assert.Contains($"{WebUsers.DatasetProvider}: tier 2", await investigator.InnerTextAsync("#explanation"), StringComparison.Ordinal);
        Assert.Equal(5, await investigator.Locator($"#classification-{WebUsers.DatasetProvider} ol.answers li").CountAsync());
        await Screenshots.SaveAsync(investigator, "projects-classification-disagreement");

        // The representative revises: the consequences would be trivial, so tier 1; now they agree.
        await ClassifyAsync(provider, url, false, false, true, true, true);
        Assert.Equal("Agreed: tier 1", await provider.InnerTextAsync("#outcome .state"));
        await investigator.GotoAsync(url);
        Assert.Equal("Agreed: tier 1", await investigator.InnerTextAsync("#outcome .state"));
        var answers = await investigator.Locator($"#classification-{WebUsers.DatasetProvider} ol.answers li").AllInnerTextsAsync();
        Assert.Equal(5, answers.Count);
        Assert.EndsWith("Yes", answers[^1].Trim(), StringComparison.Ordinal);
        Assert.StartsWith("Are you highly confident that those consequences would be so low as to be trivial?", answers[^1], StringComparison.Ordinal);
        Assert.Equal(4, await investigator.Locator($"#classification-{WebUsers.Investigator} ol.answers li").CountAsync());
        await Screenshots.SaveAsync(investigator, "projects-classification-agreed");
        await CheckedAsync(investigator);

        // The project page shows the outcome too; a Researcher sees it but has no dialogue.
        await investigator.GotoAsync(web.Url($"projects/{Alpha}"));
        Assert.Equal("Agreed: tier 1", await investigator.Locator("#workpackages tr", new() { HasText = "linkage" }).Locator("td:nth-child(3)").InnerTextAsync());
        var researcher = await SignedInAsync(WebUsers.Researcher);
        await researcher.GotoAsync(url);
        Assert.Equal("Agreed: tier 1", await researcher.InnerTextAsync("#outcome .state"));
        Assert.Equal(0, await researcher.Locator("#dialogue").CountAsync());
        await CheckedAsync(researcher);
        foreach (var page in new[] { investigator, provider, researcher })
        {
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task The_project_manager_uploads_the_data_sharing_agreement_and_a_wrong_hash_is_refused()
    {
        var manager = await SignedInAsync(WebUsers.ProjectManager);
        var url = await CreateWorkPackageAsync(manager, "survey", "Survey analysis");
        await manager.GotoAsync(url);
        Assert.Equal(1, await manager.Locator("#no-agreement").CountAsync());
        await CheckedAsync(manager);

        var content = "Data-sharing agreement between the provider and the project, signed.\n"u8.ToArray();
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        await manager.SetInputFilesAsync("#agreement-file", new FilePayload { Name = "agreement.txt", MimeType = "text/plain", Buffer = content });
        await manager.FillAsync("#agreement-sha", new string('0', 64));
        var refused = await manager.RunAndWaitForResponseAsync(() => manager.ClickAsync("#upload-agreement button[type=submit]"), r => r.Request.Method == "POST");
        Assert.Equal(422, refused.Status);
        Assert.Contains($"The agreement hashes to {sha}", await manager.InnerTextAsync("#error"), StringComparison.Ordinal);

        await manager.SetInputFilesAsync("#agreement-file", new FilePayload { Name = "agreement.txt", MimeType = "text/plain", Buffer = content });
        await manager.FillAsync("#agreement-sha", "");
        await manager.ClickAsync("#upload-agreement button[type=submit]");
        await manager.WaitForSelectorAsync("#message");
        Assert.Equal($"Stored agreement.txt ({content.Length} bytes, SHA-256 {sha}) in the work package's document volume.", await manager.InnerTextAsync("#message"));
        Assert.Equal(["agreement.txt", content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), sha],
            (await manager.Locator("#agreement-files tbody tr td").AllInnerTextsAsync()).Take(3));
        await Screenshots.SaveAsync(manager, "projects-workpackage-agreement");
        await CheckedAsync(manager);

        // A Researcher sees the stored agreement but no upload form.
        var researcher = await SignedInAsync(WebUsers.Researcher);
        await researcher.GotoAsync(url);
        Assert.Equal(1, await researcher.Locator("#agreement-files tbody tr").CountAsync());
        Assert.Equal(0, await researcher.Locator("#upload-agreement").CountAsync());
        await manager.Context.CloseAsync();
        await researcher.Context.CloseAsync();
    }
}
