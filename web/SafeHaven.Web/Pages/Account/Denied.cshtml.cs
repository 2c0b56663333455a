using Microsoft.AspNetCore.Http;

namespace SafeHaven.Web.Pages.Account;

/// <summary>Where a page refused for lack of a role sends the person: answers 403, so the refusal is visible to tools too.</summary>
public sealed class DeniedModel : SafeHavenPage
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
