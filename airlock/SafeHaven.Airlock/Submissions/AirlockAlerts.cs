using Microsoft.Extensions.Logging;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Airlock.Submissions;

/// <summary>
/// Alerts that people must act on (a depositor's hash mismatch, a stored file that changed): an error in the log and
/// an <c>airlock.alert</c> entry in the audit log naming who is alerted (the Programme Managers and the project's
/// Project Managers), where their audit queries find it.
/// </summary>
public sealed partial class AirlockAlerts(IAuditLog audit, IUserStore users, ILogger<AirlockAlerts> logger)
{
    public async Task RaiseAsync(string kind, string target, string? project, string message, CancellationToken cancellationToken)
    {
        var recipients = await RecipientsAsync(project, cancellationToken).ConfigureAwait(false);
        LogAlert(logger, kind, message, string.Join(", ", recipients));
        await audit.AppendAsync(AuditRecord.Of("airlock", "airlock.alert", target, project,
            ("kind", kind), ("message", message), ("alerted", string.Join(",", recipients))), cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<string>> RecipientsAsync(string? project, CancellationToken cancellationToken)
    {
        var recipients = new List<string>();
        foreach (var user in await users.ListUsersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!user.Disabled && (await users.GetRolesAsync(user.Name, cancellationToken).ConfigureAwait(false)).Any(r => r.Role == Role.ProgrammeManager && r.Project is null))
            {
                recipients.Add($"ProgrammeManager:{user.Name}");
            }
        }
        if (project is not null)
        {
            recipients.AddRange((await users.ListProjectRolesAsync(project, cancellationToken).ConfigureAwait(false))
                .Where(r => r.Role == Role.ProjectManager).Select(r => $"ProjectManager:{r.User}"));
        }
        return recipients;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Airlock alert ({Kind}): {Message} (alerted: {Recipients})")]
    private static partial void LogAlert(ILogger logger, string kind, string message, string recipients);
}
