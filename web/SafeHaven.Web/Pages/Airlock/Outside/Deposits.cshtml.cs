namespace SafeHaven.Web.Pages.Airlock.Outside;

/// <summary>
/// The depositor's page, reached through the one-time deposit link <c>/airlock/deposits#&lt;token&gt;</c>: open without
/// a session (this folder is anonymous), because depositors outside have no account. The token stays in the URL
/// fragment, which browsers never send, so it is never in a request line or a log; the page's script reads it and
/// talks to the anonymous deposit API (<c>/airlock/deposit/**</c>, token in its header), which does every check.
/// </summary>
public sealed class DepositsModel : SafeHavenPage
{
    public void OnGet()
    {
    }
}
