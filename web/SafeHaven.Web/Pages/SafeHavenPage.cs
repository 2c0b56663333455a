using System.Reflection;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SafeHaven.Management.Identity;
using SafeHaven.Web.Identity;

namespace SafeHaven.Web.Pages;

/// <summary>
/// The roles that may open a page: the signed-in person must hold at least one of them (an appliance-wide role, or a
/// project role in any project; narrow to one project inside the page with <see cref="Caller.Has(string, Role)"/>).
/// The navigation shows a page's link by the same attribute, so a link is shown exactly when the page opens.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class RequireRoleAttribute(params Role[] anyOf) : Attribute
{
    public IReadOnlyList<Role> AnyOf { get; } = anyOf;

    public bool Allows(Caller caller) => AnyOf.Count == 0 || AnyOf.Any(caller.Has);

    /// <summary>Whether the caller may open pages of this model type (no attribute: every signed-in person).</summary>
    public static bool Allows(Type pageModel, Caller caller) =>
        pageModel.GetCustomAttribute<RequireRoleAttribute>() is not { } required || required.Allows(caller);
}

/// <summary>
/// The base of every page model: <see cref="Caller"/> is the signed-in person with their roles (the same
/// <see cref="Management.Identity.Caller"/> the API works with, so pass it to the stores and the airlock workflow as the
/// API endpoints do), and a <see cref="RequireRoleAttribute"/> on the model is enforced before any handler runs: a
/// person without the role is sent to <c>/account/denied</c> (403). Pages outside <c>/account</c> already require a
/// session; pages in <c>/account</c> are open, and there <see cref="Caller"/> is null until someone signs in.
/// </summary>
public abstract class SafeHavenPage : PageModel
{
    private Caller? _caller;

    /// <summary>The signed-in person (never null on pages outside <c>/account</c>).</summary>
    public Caller Caller => _caller ?? throw new InvalidOperationException("Nobody is signed in on this page (pages in /account are open to everyone).");

    /// <summary>The signed-in person, or null (the open pages in <c>/account</c>).</summary>
    public Caller? SignedIn => _caller;

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (HttpContext.User.Identity is not { IsAuthenticated: true })
        {
            // Open pages are not authorised, so nothing read the session cookie yet.
            var session = await HttpContext.AuthenticateAsync(WebAuthentication.CookieScheme).ConfigureAwait(false);
            if (session.Succeeded)
            {
                HttpContext.User = session.Principal;
            }
        }
        _caller = HttpContext.GetCaller();
        if (GetType().GetCustomAttribute<RequireRoleAttribute>() is { } required)
        {
            if (_caller is null)
            {
                context.Result = new ChallengeResult(WebAuthentication.CookieScheme);
                return;
            }
            if (!required.Allows(_caller))
            {
                context.Result = new ForbidResult(WebAuthentication.CookieScheme);
                return;
            }
        }
        await next().ConfigureAwait(false);
    }
}
