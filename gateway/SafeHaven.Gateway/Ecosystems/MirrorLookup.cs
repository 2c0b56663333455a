using Microsoft.AspNetCore.Http;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems;

/// <summary>
/// The answer to "what may a client see of this package now", shared by the mirrors: the tier's view of it,
/// or why there is none.
/// </summary>
public abstract record MirrorLookup<TView> where TView : class
{
    /// <summary>The package and its view; <paramref name="StaleReason"/> is set when upstream could not be re-read.</summary>
    public sealed record Found(TView View, string? StaleReason) : MirrorLookup<TView>;

    /// <summary>The tier hides the whole package.</summary>
    public sealed record Hidden(string Reason) : MirrorLookup<TView>;

    /// <summary>Upstream has no such package.</summary>
    public sealed record NotFound(string Reason) : MirrorLookup<TView>;

    /// <summary>Nothing can be served: upstream is down and nothing is cached, or the tier's closure is not ready.</summary>
    public sealed record Unavailable(string Reason, bool ClosurePending = false) : MirrorLookup<TView>;

    /// <summary>The lookup for a package the allowlist gate refused.</summary>
    public static MirrorLookup<TView> Refused(AllowlistAdmission admission) => admission.ClosurePending
        ? new Unavailable(admission.Reason!, ClosurePending: true)
        : new Hidden(admission.Reason!);

    /// <summary>
    /// The HTTP answer when nothing was found to serve: 404 with the policy code for a hidden package (never 401),
    /// plain 404 when upstream has none, 503 while the closure is computed, 502 when upstream failed.
    /// </summary>
    public IResult ToFailureResult(HttpContext context) => this switch
    {
        Hidden hidden => PolicyResponses.Hidden(context, VersionDecision.NotAllowlisted, hidden.Reason),
        NotFound notFound => PolicyResponses.NotFound(notFound.Reason),
        Unavailable { ClosurePending: true } pending => PolicyResponses.NotReady(pending.Reason),
        Unavailable unavailable => PolicyResponses.BadGateway(unavailable.Reason),
        _ => throw new InvalidOperationException("a found package has no failure result"),
    };
}
