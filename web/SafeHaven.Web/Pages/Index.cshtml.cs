namespace SafeHaven.Web.Pages;

/// <summary>The home page: the signed-in person's roles and the areas they may open.</summary>
public sealed class IndexModel : SafeHavenPage
{
    public void OnGet()
    {
    }
}
