using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Ecosystems.Apt.Selection;

/// <summary>
/// Whether a package's <c>Pre-Depends</c> and <c>Depends</c> can all be met, as apt would meet them: by the candidate
/// (newest listed version) of the real package, else a provider, with <c>Multi-Arch</c> qualifiers (the closure's own rules).
/// </summary>
public static class AptDependencies
{
    /// <summary>
    /// The first clause (alternatives joined by <c>|</c>) that neither <paramref name="served"/> nor the base system
    /// (<paramref name="installed"/>: Essential and required packages) can meet, or null when every clause can be met.
    /// </summary>
    public static string? FirstUnmet(AptPackage package, AptUniverse served, AptUniverse installed)
    {
        foreach (var clause in package.PreDepends.Concat(package.Depends))
        {
            if (!served.CanSatisfy(clause) && !installed.CanSatisfy(clause))
            {
                return AptRelations.Format(clause);
            }
        }
        return null;
    }
}
