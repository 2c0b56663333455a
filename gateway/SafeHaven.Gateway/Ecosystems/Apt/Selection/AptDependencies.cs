using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Ecosystems.Apt.Selection;

/// <summary>Whether a package's <c>Pre-Depends</c> and <c>Depends</c> can all be met, as apt would meet them.</summary>
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
            if (!clause.Any(relation => served.Providers(relation).Any() || installed.Providers(relation).Any()))
            {
                return AptRelations.Format(clause);
            }
        }
        return null;
    }
}
