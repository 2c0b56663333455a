namespace SafeHaven.Web.Pages.Airlock;

/// <summary>The airlock area's start page (placeholder until its pages are built; open to every signed-in person).</summary>
public sealed class IndexModel : SafeHavenPage
{
    public void OnGet()
    {
    }
}
