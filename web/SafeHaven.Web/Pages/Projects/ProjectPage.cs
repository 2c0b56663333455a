using Microsoft.AspNetCore.Mvc;
using SafeHaven.Management.Projects;

namespace SafeHaven.Web.Pages.Projects;

/// <summary>
/// The base of the pages of one project: the project from the route, seen only by those the rules let see it
/// (<see cref="ProjectActions.VisibleAsync"/>; anyone else gets 404 with the API's words), and the message of the last
/// change (after a redirect) or the refusal of this one (with the API's status code), shown at the top of the page.
/// </summary>
public abstract class ProjectPage(ProjectActions actions) : SafeHavenPage
{
    [BindProperty(SupportsGet = true)]
    public string Project { get; set; } = "";

    public ProjectRecord? Record { get; private set; }

    /// <summary>What went wrong, in the rules' own words.</summary>
    public string? Error { get; protected set; }

    /// <summary>What the last change did (kept across the redirect after a POST).</summary>
    [TempData]
    public string? Message { get; set; }

    protected ProjectActions Actions => actions;

    /// <summary>Loads the project; false (with the 404 answer set) when the caller may not see it.</summary>
    protected async Task<bool> LoadProjectAsync(CancellationToken cancellationToken)
    {
        var visible = await actions.VisibleAsync(Caller, Project, cancellationToken);
        if (!visible.Succeeded)
        {
            Error = visible.Message;
            Response.StatusCode = visible.Status;
            return false;
        }
        Record = visible.Value;
        return true;
    }

    /// <summary>After a change: back to the page (GET) with <paramref name="message"/>; after a refusal: the page with the reason.</summary>
    protected async Task<IActionResult> AfterAsync<T>(ProjectOutcome<T> outcome, string message, Func<Task> reload, object? routeValues = null)
    {
        if (outcome.Succeeded)
        {
            Message = message;
            return RedirectToPage(routeValues);
        }
        Error = outcome.Message;
        await reload();
        Response.StatusCode = outcome.Status;
        return Page();
    }
}
