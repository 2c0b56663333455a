using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using SafeHaven.Management.Audit;
using SafeHaven.Web.Identity;

namespace SafeHaven.Web.Pages.Account;

/// <summary>Ends the session (a POST with the anti-forgery token, so no other site can sign a person out).</summary>
public sealed class SignOutModel(IAuditLog audit) : SafeHavenPage
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (SignedIn is { } caller)
        {
            await audit.AppendAsync(AuditRecord.Of(caller.Name, "web.signed-out", caller.Name), HttpContext.RequestAborted);
        }
        await HttpContext.SignOutAsync(WebAuthentication.CookieScheme);
        return LocalRedirect("/account/signin?signedout=true");
    }
}
