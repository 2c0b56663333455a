namespace SafeHaven.Web.Pages.Airlock.Outside;

/// <summary>
/// Released outputs, reached through the time-limited release link <c>/airlock/released#&lt;token&gt;</c>: open without a
/// session, the token in the URL fragment (never sent, never logged). The page's script lists the files and downloads
/// them from the anonymous release API (<c>/airlock/release/**</c>, token in its header), checking each SHA-256.
/// </summary>
public sealed class ReleasedModel : SafeHavenPage
{
    public void OnGet()
    {
    }
}
