using SafeHaven.Gateway.Artifacts;

namespace SafeHaven.Management.Audit;

/// <summary>The mirrors' entries in the audit log, written as the appliance itself (actor <c>appliance:&lt;ecosystem&gt;</c>).</summary>
internal sealed class UpstreamAuditLog(IAuditLog audit) : IUpstreamAuditLog
{
    public const string ReplacedFileAction = "mirror.upstream.file-replaced";

    public Task RecordReplacedFileAsync(ReplacedUpstreamFile replaced, CancellationToken cancellationToken) =>
        audit.AppendAsync(AuditRecord.Of("appliance:" + replaced.Ecosystem, ReplacedFileAction, $"{replaced.Ecosystem}/{replaced.FileName}", null,
            ("offered", replaced.Offered), ("pinned", replaced.Pinned), ("reason", replaced.Reason)), cancellationToken);
}
