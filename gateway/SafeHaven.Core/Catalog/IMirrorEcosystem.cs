using SafeHaven.Core.Tiers;

namespace SafeHaven.Core.Catalog;

/// <summary>What the scheduled jobs need from an ecosystem's mirror, whatever its protocol.</summary>
public interface IMirrorEcosystem
{
    /// <summary>The configuration key of the ecosystem: pypi, cran, nuget, conda, apt.</summary>
    string Ecosystem { get; }

    /// <summary>Resolves requirements and reads dependencies for closing the allowlist.</summary>
    IClosureSource ClosureSource { get; }

    /// <summary>Re-reads one cached upstream index document now; a failure keeps the last good copy.</summary>
    Task RefreshAsync(string key, CancellationToken cancellationToken);
}
