namespace SafeHaven.Gateway.Artifacts;

/// <summary>An upstream offering other content under a file name whose first verified copy is pinned.</summary>
/// <param name="Offered">What upstream now promises (algorithm and hex).</param>
/// <param name="Pinned">The pinned hash (SHA-256 hex) of the copy that keeps being served.</param>
public sealed record ReplacedUpstreamFile(string Ecosystem, string FileName, string Offered, string Pinned, string Reason);

/// <summary>
/// Where the mirrors write what the appliance's audit log must hold. The gateway does not know the audit log (it
/// lives in the management layer, which references the gateway); the management layer registers an implementation,
/// and without one (a gateway hosted alone) nothing is written there.
/// </summary>
public interface IUpstreamAuditLog
{
    Task RecordReplacedFileAsync(ReplacedUpstreamFile replaced, CancellationToken cancellationToken);
}
