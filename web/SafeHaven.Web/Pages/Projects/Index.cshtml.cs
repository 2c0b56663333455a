namespace SafeHaven.Web.Pages.Projects;

/// <summary>The projects area's start page (placeholder until its pages are built; open to every signed-in person).</summary>
public sealed class IndexModel : SafeHavenPage
{
    public void OnGet()
    {
    }
}
