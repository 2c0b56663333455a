namespace SafeHaven.Web.Pages.Packages;

/// <summary>The packages area's start page (placeholder until its pages are built; open to every signed-in person).</summary>
public sealed class IndexModel : SafeHavenPage
{
    public void OnGet()
    {
    }
}
